"""A child process killed by a signal, told in one line.

A native library built for instructions this CPU lacks does not raise: the process dies
with SIGILL (SIGSEGV and friends for other native faults) and Python prints nothing. So
kodeio starts such libraries in child processes where it can (pipeline stages, the Unsloth
import probe, llama.cpp's converter and quantizer), and the parent turns a death by signal
into one line: which library, what the CPU lacks, and what kodeio did about it.

The library is named from the child's own Python traceback: a child calls `arm()`, which
points `faulthandler` at the file the parent named in `KODEIO_CRASH_FILE`, and the
innermost frame that belongs to a known package names the culprit.
"""

from __future__ import annotations

import faulthandler
import os
import re
import signal
from pathlib import Path
from typing import IO

from kodeio.cpu import CpuFeatures, from_cpuinfo

ENV = "KODEIO_CRASH_FILE"
FATAL = {
    signal.SIGILL: "illegal instruction",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "arithmetic fault",
    signal.SIGABRT: "aborted",
}
# Top-level package -> the name a user knows it by.
LIBRARIES = {
    "unsloth": "Unsloth",
    "unsloth_zoo": "Unsloth",
    "vllm": "vLLM",
    "torch": "PyTorch",
    "llama_cpp": "llama.cpp",
    "transformers": "transformers",
    "peft": "PEFT",
    "trl": "TRL",
    "bitsandbytes": "bitsandbytes",
    "triton": "Triton",
    "xformers": "xformers",
    "ray": "Ray",
    "numpy": "NumPy",
}
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line \d+')
_ARMED: list[IO[str]] = []  # faulthandler writes to this file until the process ends


def arm(path: str | os.PathLike[str] | None = None) -> bool:
    """In a child: dump the Python traceback to the parent's crash file on a fatal signal."""
    target = path or os.environ.get(ENV)
    if not target:
        return False
    handle = open(target, "w", encoding="utf-8")  # noqa: SIM115  (kept open for faulthandler)
    _ARMED.append(handle)
    faulthandler.enable(file=handle, all_threads=True)
    return True


def signal_of(returncode: int | None) -> int | None:
    """The fatal signal that ended a child (subprocess/multiprocessing codes are -signum)."""
    if returncode is None or returncode >= 0 or -returncode not in FATAL:
        return None
    return -returncode


def library_in(traceback: str) -> str | None:
    """The known library of the innermost frame of a faulthandler dump, if any.

    faulthandler prints the most recent call first, and the crashing thread first."""
    for line in traceback.splitlines():
        match = _FRAME.match(line)
        if not match:
            continue
        parts = Path(match["path"]).parts
        for i, part in enumerate(parts[:-1]):
            if part in ("site-packages", "dist-packages") and parts[i + 1] in LIBRARIES:
                return LIBRARIES[parts[i + 1]]
    return None


def read_library(crash_file: Path | None) -> str | None:
    if crash_file is None:
        return None
    try:
        return library_in(crash_file.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def describe(
    returncode: int,
    *,
    library: str | None,
    action: str | None,
    verb: str = "run",
    cpu: CpuFeatures | None = None,
) -> str:
    """One line naming the library, the signal, what the CPU lacks and what kodeio did.

    SIGILL: '<library> could not <verb> on this CPU (SIGILL, illegal instruction: this CPU
    has AVX2 but no AVX-512); <action>'. Other signals say 'crashed' instead, since they
    need not come from the CPU, and still say what it lacks, which helps the triage."""
    signum = signal_of(returncode)
    if signum is None:
        raise ValueError(f"exit code {returncode} is not a death by a fatal signal")
    sig = signal.Signals(signum)
    lacks = (cpu or from_cpuinfo()).missing()
    who = library or "a native library"
    tail = f"; {action}" if action else ""
    if sig == signal.SIGILL:
        what = lacks or "an instruction this CPU does not have"
        return f"{who} could not {verb} on this CPU ({sig.name}, {FATAL[sig]}: {what}){tail}"
    context = f"; {lacks}" if lacks else ""
    return f"{who} crashed ({sig.name}, {FATAL[sig]}{context}){tail}"
