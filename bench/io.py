"""Benchmark: `kodeio io run` pairs/s against spawning `python3 -c` per execution.

Both sides do the same work per pair: execute the function on the input twice with
different PYTHONHASHSEED values and keep the pair if the outputs agree. The corpus is a few
hundred generated functions (arithmetic, strings, lists, dicts, recursion) with three given
inputs each, written as kodeio seed JSONL. The baseline runs on a prefix of the same pairs
(spawning is slow; its rate does not depend on how many pairs it sees) with the same
number of parallel workers.

    .venv/bin/python bench/io.py [--functions 300] [--workers 2] [--baseline-pairs 150]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kodeio.sandbox import SandboxConfig
from kodeio.sandbox.values import format_call_args
from kodeio.synth.io.config import IoConfig
from kodeio.synth.io.stage import run_io

TEMPLATES = [
    ("def f(a, b):\n    return a * {k} + b - {k2}\n", lambda i, j: {"args": [i + j, j], "kwargs": {}}),
    ("def f(s):\n    return ''.join(c * {k} for c in s[::-1])[:50]\n", lambda i, j: {"args": ["ab" * (j + 1) + str(i)], "kwargs": {}}),
    ("def f(nums):\n    return sorted(x % {k} for x in nums)\n", lambda i, j: {"args": [[i, j, i * j, 7, 3]], "kwargs": {}}),
    ("def f(n):\n    a, b = 0, 1\n    for _ in range(n % 30 + {k}):\n        a, b = b, a + b\n    return a\n", lambda i, j: {"args": [i + j], "kwargs": {}}),
    ("def f(words):\n    counts = {{}}\n    for w in words:\n        counts[w[:{k}]] = counts.get(w[:{k}], 0) + 1\n    return dict(sorted(counts.items()))\n", lambda i, j: {"args": [["alpha", "beta", "alps", "bet" + str(j), "x" * (i % 5 + 1)]], "kwargs": {}}),
    ("def f(n):\n    def g(m):\n        return 1 if m <= 1 else m * g(m - 1)\n    return g(n % 12) % (10 ** 9 + {k})\n", lambda i, j: {"args": [i * 3 + j], "kwargs": {}}),
    ("import math\n\ndef f(x, y):\n    return round(math.hypot(x, y) * {k}, 4)\n", lambda i, j: {"args": [i, j + 1], "kwargs": {}}),
    ("def f(grid):\n    return [sum(r) * {k} for r in grid]\n", lambda i, j: {"args": [[[i, j], [j, 1], [2, i]]], "kwargs": {}}),
]  # fmt: skip


def make_corpus(path: Path, functions: int) -> list[tuple[str, dict]]:
    """Write the seed JSONL; return the (code, input) pairs in order."""
    pairs = []
    with path.open("w", encoding="utf-8") as fh:
        for n in range(functions):
            template, make_input = TEMPLATES[n % len(TEMPLATES)]
            code = template.format(k=n % 7 + 2, k2=n)
            inputs = [make_input(n, j) for j in range(3)]
            fh.write(
                json.dumps({"id": f"fn{n}", "code": code, "entry": "f", "inputs": inputs}) + "\n"
            )
            pairs += [(code, given) for given in inputs]
    return pairs


SPAWN_PROGRAM = "{code}\nprint(repr(f({args})))\n"


def spawn_once(code: str, given: dict, hash_seed: int) -> str | None:
    program = SPAWN_PROGRAM.format(code=code, args=format_call_args(given["args"], given["kwargs"]))
    proc = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=10,
        env={"PYTHONHASHSEED": str(hash_seed), "PATH": "/usr/bin:/bin"},
    )
    return proc.stdout if proc.returncode == 0 else None


def spawn_pair(item: tuple[str, dict]) -> bool:
    code, given = item
    first = spawn_once(code, given, 1)
    return first is not None and first == spawn_once(code, given, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-pairs", type=int, default=150)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds.jsonl"
        pairs = make_corpus(seeds, args.functions)
        config = IoConfig(
            seeds=[seeds],
            output=Path(tmp) / "IO.jsonl",
            sandbox=SandboxConfig(workers=args.workers, timeout=5.0),
        )
        start = time.perf_counter()
        stats = run_io(config)
        stage_s = time.perf_counter() - start
        stage_rate = len(pairs) / stage_s

        subset = pairs[: args.baseline_pairs]
        start = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            kept = sum(pool.map(spawn_pair, subset))
        spawn_s = time.perf_counter() - start
        spawn_rate = len(subset) / spawn_s

    print(
        f"corpus: {args.functions} functions, {len(pairs)} (function, input) pairs, workers={args.workers}"
    )
    print(f"kodeio io run : {len(pairs):5d} pairs in {stage_s:7.2f} s = {stage_rate:7.1f} pairs/s "
          f"(kept {stats.pairs_kept}, rejected {sum(stats.rejects_by_reason.values())}; "
          "includes sandbox start-up)")  # fmt: skip
    print(
        f"spawn baseline: {len(subset):5d} pairs in {spawn_s:7.2f} s = {spawn_rate:7.1f} pairs/s (kept {kept})"
    )
    print(f"ratio: {stage_rate / spawn_rate:.1f}x")


if __name__ == "__main__":
    main()
