"""The official execution harness that the benchmarks compare against.

human-eval, CRUXEval and LiveCodeBench check each program with a fresh `multiprocessing`
Manager list and Process, a SIGALRM timer, and (optionally) their in-process
`reliability_guard` patching. One copy here, used by every bench script.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import multiprocessing
import os
import signal


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
    for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir",
                 "setuid", "fork", "forkpty", "killpg", "rename", "renames", "truncate",
                 "replace", "unlink", "fchmod", "fchown", "chmod", "chown", "chroot",
                 "lchown", "getcwd", "chdir"):  # fmt: skip
        setattr(os, name, None)
    shutil.rmtree = None  # type: ignore[assignment]
    shutil.move = None  # type: ignore[assignment]
    subprocess.Popen = None  # type: ignore[assignment,misc]


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
