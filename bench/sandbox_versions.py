"""Sandbox throughput of this tree against an earlier commit, side by side in one run.

    .venv/bin/python bench/sandbox_versions.py --base 9634871 [--n 1200] [--rounds 6]

Prices a change to the sandbox itself (for #18, the hardening). The base commit is checked
out into a temporary git worktree; each round runs both trees, in alternating order, each
in a fresh interpreter with its own sandbox (no warm state shared between the sides), on
the same jobs as bench/sandbox.py. Prints executions/s per round and the median ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from baselines import rate_in_child

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Runs inside either tree: that tree's kodeio, this tree's workload.
RATE = """
import sys, time
sys.path.insert(0, {bench!r})
from baselines import WORKLOAD
from kodeio.sandbox import Job, Sandbox, SandboxConfig
n, workers = {n}, {workers}
jobs = [Job(id=str(i), code=c, entry="f", input=a)
        for i, (_, c, a) in zip(range(n), WORKLOAD * (n // len(WORKLOAD) + 1))]
with Sandbox(SandboxConfig(workers=workers)) as sb:
    list(sb.run(jobs[:100]))  # start-up and first compiles off the clock, as in bench/sandbox.py
    t = time.perf_counter()
    results = list(sb.run(jobs))
    dt = time.perf_counter() - t
assert all(r.status == "ok" for r in results), {{r.status for r in results}}
print(n / dt)
"""


def rate(tree: Path, n: int, workers: int) -> float:
    code = RATE.format(bench=str(HERE), n=n, workers=workers)
    return rate_in_child(code, tree, str(tree), env=dict(os.environ, PYTHONPATH=str(tree)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="the commit to compare with")
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kodeio-base-") as tmp:
        base = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base), args.base],
            check=True,
        )
        try:
            ratios, rates = [], {"base": [], "this": []}
            for r in range(args.rounds):
                order = [("base", base), ("this", ROOT)]
                if r % 2:
                    order.reverse()
                got = {name: rate(tree, args.n, args.workers) for name, tree in order}
                for name, value in got.items():
                    rates[name].append(value)
                ratios.append(got["this"] / got["base"])
                print(
                    f"round {r + 1}: base {got['base']:.0f}/s, this tree {got['this']:.0f}/s,"
                    f" ratio {ratios[-1]:.3f} (first: {order[0][0]})",
                    flush=True,
                )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False
            )
    print(
        f"median: base {statistics.median(rates['base']):.0f}/s, this tree"
        f" {statistics.median(rates['this']):.0f}/s, this/base {statistics.median(ratios):.3f}"
        f" (rounds {min(ratios):.3f}-{max(ratios):.3f})"
    )


if __name__ == "__main__":
    main()
