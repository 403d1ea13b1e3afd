"""`python -m kodeio.cli ...`: the same as the `kodeio` command."""

import sys

from kodeio.cli import main

# vLLM's engine process re-imports the main module under spawn: only the real run starts.
if __name__ == "__main__":
    sys.exit(main())
