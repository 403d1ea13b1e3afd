"""Stand-in packages that kill their process with a signal when imported, for crash tests.

A native library that needs an instruction the CPU lacks dies with SIGILL at import; these
packages do the same with `os.kill`, so the crash handling can be tested on any CPU. They
live in a folder named `site-packages` (where kodeio looks to name the library) that a test
puts first on the children's `PYTHONPATH`, shadowing the real package in those children only.

    site = crashing_site(tmp_path, {"unsloth": "SIGILL"})
    monkeypatch.setenv("PYTHONPATH", str(site))
"""

from __future__ import annotations

import signal
from pathlib import Path

_KILLS = '''"""A stand-in for {name}: importing it kills the process with {sig}, as a native
library built for instructions the CPU lacks would (written by kodeio.testing.crashing)."""

import os
import signal

{imports}os.kill(os.getpid(), signal.{sig})
'''


def crashing_site(
    root: Path, packages: dict[str, str], imports: dict[str, str] | None = None
) -> Path:
    """Write `root/site-packages/<name>/__init__.py` for each `{name: signal name}`.

    A package whose signal is '' does not die itself but imports `imports[name]` first
    (e.g. a stand-in Unsloth whose crash comes from a stand-in PEFT)."""
    site = root / "site-packages"
    for name, sig in packages.items():
        if sig:
            signal.Signals[sig]  # a typo fails here, not as a silent non-crash in the child
        package = site / name
        package.mkdir(parents=True, exist_ok=True)
        first = (imports or {}).get(name)
        lines = f"import {first}  # noqa: F401\n" if first else ""
        body = (
            _KILLS.format(name=name, sig=sig, imports=lines)
            if sig
            else f'"""A stand-in for {name} that imports {first}."""\n\n{lines}'
        )
        (package / "__init__.py").write_text(body, encoding="utf-8")
    return site
