"""What each switchable hardening step of the sandbox costs, side by side in one run.

    .venv/bin/python bench/sandbox_steps.py [--n 1200] [--rounds 4]

Each variant takes one layer away from the full sandbox and runs bench/sandbox.py's jobs in
a fresh interpreter with its own sandbox; every round runs all variants, in an order that
rotates from round to round, so drift on the machine falls on all of them alike. Prints
executions/s per variant and its median ratio to the full sandbox (above 1: the step
removed costs that much throughput).

Variants (run as root, which is how the hardening is complete):
- full: everything (per-worker cgroup, worker and job uids, the worker as pid 1, ...)
- no-cgroup: `cgroup: off`
- no-uids: worker and jobs keep the host uid they were started with (root)
- no-as-pid-1: bubblewrap's own init as pid 1 above the worker
- process: no bubblewrap at all (`isolation: process`, rlimits + seccomp + uids)
Steps that cannot be switched off (the seq-checked protocol, the wipe of /tmp and /dev/shm,
the seccomp rules) are priced as a whole against an earlier commit by sandbox_versions.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from baselines import rate_in_child

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

RATE = """
import json, sys, time
sys.path.insert(0, {bench!r})
from baselines import WORKLOAD
import kodeio.sandbox.pool as pool
from kodeio.sandbox import Job, Sandbox, SandboxConfig
variant, n, workers = {variant!r}, {n}, {workers}
make = pool.worker_command

def patched(config, index=0):
    argv, env = make(config, index)
    wcfg = json.loads(argv[-1])
    if variant == "no-uids":
        wcfg["job_uid"] = wcfg["worker_uid"] = None
        argv = [a for a in argv if a not in ("--cap-add", "CAP_SETUID", "CAP_SETGID")]
    if variant == "no-as-pid-1":
        argv = [a for a in argv if a != "--as-pid-1"]
    return argv[:-1] + [json.dumps(wcfg)], env

pool.worker_command = patched
overrides = {{"cgroup": "off"}} if variant == "no-cgroup" else {{}}
if variant == "process":
    overrides["isolation"] = "process"
jobs = [Job(id=str(i), code=c, entry="f", input=a)
        for i, (_, c, a) in zip(range(n), WORKLOAD * (n // len(WORKLOAD) + 1))]
with Sandbox(SandboxConfig(workers=workers, **overrides)) as sb:
    list(sb.run(jobs[:100]))  # start-up and first compiles off the clock, as in bench/sandbox.py
    t = time.perf_counter()
    results = list(sb.run(jobs))
    dt = time.perf_counter() - t
assert all(r.status == "ok" for r in results), {{r.status for r in results}}
print(n / dt)
"""

VARIANTS = ("full", "no-cgroup", "no-uids", "no-as-pid-1", "process")


def rate(variant: str, n: int, workers: int) -> float:
    code = RATE.format(bench=str(HERE), variant=variant, n=n, workers=workers)
    return rate_in_child(code, ROOT, variant)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: without it the uid steps and the cgroup are not taken")
    rates: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for r in range(args.rounds):
        order = VARIANTS[r % len(VARIANTS) :] + VARIANTS[: r % len(VARIANTS)]
        for variant in order:
            rates[variant].append(rate(variant, args.n, args.workers))
        print(
            f"round {r + 1}: "
            + ", ".join(f"{v} {rates[v][-1]:.0f}/s" for v in VARIANTS)
            + f" (first: {order[0]})",
            flush=True,
        )
    full = rates["full"]
    print(f"full sandbox: median {statistics.median(full):.0f}/s")
    for variant in VARIANTS[1:]:
        ratios = [x / f for x, f in zip(rates[variant], full, strict=True)]
        print(
            f"{variant:>12}: median {statistics.median(rates[variant]):.0f}/s,"
            f" {variant}/full {statistics.median(ratios):.3f}"
            f" (rounds {min(ratios):.3f}-{max(ratios):.3f})"
        )


if __name__ == "__main__":
    main()
