"""Seeds for the I/O stage: the seed type, its readers, and the shipped quickstart corpus.

- `readers`: `Seed`, `RawCode` and the readers for every accepted seed format.
- `corpus`: where the shipped `quickstart.jsonl` lives (`quickstart_path()`).
- `src/`: the corpus's readable sources, one module per reasoning pattern.
- `build`: assembles `quickstart.jsonl` from `src/` (`python -m kodeio.synth.io.seeds.build`).
- `validate`: runs seeds in the sandbox (`kodeio io validate-seeds`).
"""

from kodeio.synth.io.seeds.corpus import QUICKSTART_NAME, quickstart_path
from kodeio.synth.io.seeds.readers import (
    SEED_FORMATS,
    RawCode,
    Seed,
    SeedInput,
    ValuePolicy,
    detect_file_format,
    read_hf_seeds,
    read_seeds,
    with_code_checks,
)

__all__ = [
    "QUICKSTART_NAME",
    "SEED_FORMATS",
    "RawCode",
    "Seed",
    "SeedInput",
    "ValuePolicy",
    "detect_file_format",
    "quickstart_path",
    "read_hf_seeds",
    "read_seeds",
    "with_code_checks",
]
