"""Benchmark: `kodeio io clean` seeds/s and memory high-water mark, against `kodeio io run`.

A corpus of generated seeds (default 100,000) is cleaned against a generated benchmark of
1,000 CRUXEval-shaped functions. Functions are 2-6 statements drawn from a pool of
templates with random constants and random names, so near-duplicates are rare by chance;
every 50th seed is an earlier one with its names changed (a duplicate) and every 100th a
benchmark function (a contamination); the script checks that all of those are removed and
counts what else is.
`kodeio io clean` runs in a child process, so the peak RSS reported is its own.

For the "not the slowest stage of io" comparison, `kodeio io run` processes a prefix of the
same corpus (one given input per seed, `--per-seed 1`, the least work io can do per seed)
with the same number of CPU cores.

    .venv/bin/python bench/clean.py [--seeds 100000] [--benchmark 1000] [--io-seeds 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

STATEMENTS = [
    "{t} = [x * {k} for x in {xs}]",
    "{t} = sum({xs}) + {k}",
    "{t} = {s}.upper()[:{k}]",
    "{t} = {s}.replace('{c}', '{d}')",
    "{t} = sorted({xs}, reverse={b})",
    "{t} = len({s}) * {n} % {k}",
    "{t} = [x for x in {xs} if x % {k} == {r}]",
    "{t} = {s}[::-1] + str({n})",
    "{t} = {s}.count('{c}') + {n}",
    "{t} = max({xs}) - min({xs}) + {k}" ,
    "{t} = [{s}[i:i + {k}] for i in range(0, len({s}), {k})]",
    "{t} = {n} ** 2 - {k} * {n}",
    "{t} = {xs}[{r}:] + {xs}[:{r}]",
    "{t} = '{c}'.join(sorted({s}))",
    "{t} = [x + {n} for x in {xs}][::{r2}]",
    "{t} = {s}.split('{c}')",
]  # fmt: skip
WORDS = ["acc", "items", "buf", "text", "res", "tmp", "val", "out", "cur", "part", "head",
         "tail", "total", "chunk", "word", "data", "seq", "mark", "key", "cnt"]  # fmt: skip
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def make_function(rng: random.Random, name: str) -> tuple[str, dict]:
    xs, n, s = rng.sample(["xs", "nums", "values", "arr", "n", "k", "m", "s", "line", "txt"], 3)
    names = rng.sample(WORDS, 6)
    lines, made = [], []
    for i in range(rng.randint(2, 6)):
        template = rng.choice(STATEMENTS)
        lines.append(
            "    " + template.format(
                t=names[i], xs=xs, n=n, s=s, k=rng.randint(2, 99), r=rng.randint(0, 4),
                r2=rng.randint(1, 3), b=rng.choice([True, False]), c=rng.choice(LETTERS),
                d=rng.choice(LETTERS),
            )
        )  # fmt: skip
        made.append(names[i])
    body = "\n".join(lines)
    code = f"def {name}({xs}, {n}, {s}):\n{body}\n    return [{', '.join(made)}]\n"
    given = {"args": [[rng.randint(-9, 9) for _ in range(5)], rng.randint(1, 9), "abcabd"]}
    return code, {**given, "kwargs": {}}


def renamed(code: str, rng: random.Random) -> str:
    """The same function with its locals renamed (what the exact method must see through)."""
    suffix = rng.randint(0, 9)
    return re.sub(r"\b(" + "|".join(WORDS) + r")\b", lambda m: f"{m.group(1)}_{suffix}", code)


def write_benchmark(path: Path, size: int) -> list[str]:
    rng = random.Random(7)
    codes = []
    with path.open("w", encoding="utf-8") as fh:
        for i in range(size):
            code, given = make_function(rng, "f")
            scope: dict = {}
            exec(code, scope)  # generated here, trusted
            output = scope["f"](*given["args"])
            args = ", ".join(repr(a) for a in given["args"])
            row = {"id": f"sample_{i}", "code": code, "input": args, "output": repr(output)}
            fh.write(json.dumps(row) + "\n")
            codes.append(code)
    return codes


def write_corpus(path: Path, size: int, bench: list[str]) -> dict[str, set[str]]:
    """Write the seeds; return the ids of the planted duplicates and contaminations."""
    rng = random.Random(11)
    written: list[str] = []
    planted: dict[str, set[str]] = {"duplicate": set(), "contaminated": set()}
    with path.open("w", encoding="utf-8") as fh:
        for i in range(size):
            if i % 100 == 99:
                code, given = bench[(i // 100) % len(bench)].replace("def f(", "def g(", 1), None
                planted["contaminated"].add(f"seed{i}")
            elif i % 50 == 49:
                code, given = renamed(written[rng.randrange(len(written))], rng), None
                planted["duplicate"].add(f"seed{i}")
            else:
                code, given = make_function(rng, f"fn{i}")
            entry = code.split("(", 1)[0][4:]
            written.append(code)
            row = {"id": f"seed{i}", "code": code, "entry": entry}
            if given:
                row["inputs"] = [given]
            fh.write(json.dumps(row) + "\n")
    return planted


def run(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    seconds = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"{' '.join(cmd[:4])} failed: {proc.stderr[-2000:]}")
    return seconds, proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100_000)
    parser.add_argument("--benchmark", type=int, default=1000)
    parser.add_argument("--io-seeds", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    kodeio = [sys.executable, "-m", "kodeio.cli", "io"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench = write_benchmark(root / "bench.jsonl", args.benchmark)
        planted = write_corpus(root / "seeds.jsonl", args.seeds, bench)
        out = root / "CLEAN.jsonl"
        seconds, _ = run([*kodeio, "clean", str(root / "seeds.jsonl"), "--against",
                          str(root / "bench.jsonl"), "-o", str(out)])  # fmt: skip
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        removed = {
            json.loads(line)["seed_id"]: json.loads(line)
            for line in out.with_name("CLEAN.removed.jsonl").open()
        }
        # A planted copy of a seed that was itself removed is removed for that seed's reason.
        caught = {r: sum(i in removed for i in ids) for r, ids in planted.items()}
        extra = Counter((r["reason"], r["method"]) for i, r in removed.items()
                        if i not in planted["duplicate"] | planted["contaminated"])  # fmt: skip
        print(f"clean: {args.seeds:,} seeds against {args.benchmark:,} functions in "
              f"{seconds:.1f} s = {args.seeds / seconds:,.0f} seeds/s (process start included); "
              f"peak RSS {peak_mib:,.0f} MiB")  # fmt: skip
        print(f"planted and caught: {caught} of { ({r: len(v) for r, v in planted.items()}) }")
        print(
            f"removed besides (generated functions that differ only in constants or in one "
            f"statement): {sum(extra.values())} {dict(sorted(extra.items()))}"
        )
        head = root / "io_seeds.jsonl"
        with (root / "seeds.jsonl").open() as src, head.open("w") as dst:
            n = 0
            for line in src:
                if '"inputs"' in line and n < args.io_seeds:
                    dst.write(line)
                    n += 1
        io_seconds, _ = run([*kodeio, "run", str(head), "-o", str(root / "IO.jsonl"),
                             "--per-seed", "1", "--workers", str(args.workers)])  # fmt: skip
        print(
            f"io run: {n:,} seeds in {io_seconds:.1f} s = {n / io_seconds:,.0f} seeds/s "
            f"({args.workers} workers, process start included)"
        )
        if caught != {r: len(v) for r, v in planted.items()}:
            sys.exit("a planted copy was not removed")


if __name__ == "__main__":
    main()
