"""CRUXEval scoring throughput: `kodeio eval score-cruxeval` vs the official approach.

    .venv/bin/python bench/eval.py [--samples 200] [--gens 5] [--workers 2]

Both sides score the same CRUXEval-shaped benchmark (synthetic functions in CRUXEval's
style, every generation distinct so neither side gains from deduplication) with the same
rules, in the same invocation, with the same number of parallel processes:

- official approach: a process pool over samples; per check a `multiprocessing.Manager`
  list and one `Process` running the program under a reliability_guard-style in-process
  guard (builtins and os functions disabled), SIGALRM time limit, stdio swallowed
  (re-implemented here from the description of CRUXEval's `evaluation/` code);
- kodeio: `score_generations` through the sandbox (fork server in bubblewrap, seccomp,
  rlimits, dropped uid).

The verdicts of both sides must agree; the script prints checks/s for each and the ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baselines import manager_process_check  # noqa: E402

from kodeio.eval.config import cruxeval_sandbox  # noqa: E402
from kodeio.eval.cruxeval import (  # noqa: E402
    CruxSample,
    check_program,
    precheck,
    score_generations,
    summarize,
)
from kodeio.sandbox import Sandbox  # noqa: E402

TEMPLATES = [
    (
        "def f(xs):\n    out = []\n    for x in xs:\n        if x % {k} == 0:\n            out.append(x * 2)\n    return out",
        "[{a}, {b}, {c}, {d}]",
    ),
    (
        "def f(s):\n    return ''.join(ch.upper() if i % {k} == 0 else ch for i, ch in enumerate(s))",
        "'{w}'",
    ),
    (
        "def f(d, key):\n    d = dict(d)\n    d[key] = d.get(key, 0) + {k}\n    return sorted(d.items())",
        "{{'x': {a}, 'y': {b}}}, 'x'",
    ),
    (
        "def f(n):\n    total = 0\n    while n > 0:\n        total += n % {k}\n        n //= {k}\n    return total",
        "{a}{b}{c}",
    ),
    (
        "def f(text, sep):\n    parts = text.split(sep)\n    return sep.join(reversed(parts))[:{k}]",
        "'{w}-{w}-ab', '-'",
    ),
]
WORDS = ["alpha", "banana", "kodeio", "matrix", "vector", "string", "python", "hangul"]


def make_benchmark(samples: int, gens: int) -> tuple[list[CruxSample], list[list[str]]]:
    """Samples with their true outputs (computed here) and distinct generations, some right."""
    rows, all_gens = [], []
    for i in range(samples):
        template, args = TEMPLATES[i % len(TEMPLATES)]
        k = 2 + i % 5
        values = {
            "k": k,
            "a": 3 + i,
            "b": 4 + i,
            "c": 5 + i,
            "d": 6 + 2 * i,
            "w": WORDS[i % len(WORDS)],
        }
        code = template.format(**values)
        inp = args.format(**values)
        namespace: dict = {}
        exec(code, namespace)  # our own synthetic reference code, not model output
        output = repr(eval(f"f({inp})", namespace))
        rows.append(CruxSample(i, code, inp, output))
        # Right answers spelled differently, and wrong ones, all distinct programs.
        options = [output, f"{output}  # {i}", f"({output})", f"{output} if True else None"]
        options += [f"{output}[::-1]", "None", f"[{i}]", f"'{i}'"]
        all_gens.append(options[:gens])
    return rows, all_gens


# ---- the official approach ----------------------------------------------------------------


def _score_sample(args: tuple[CruxSample, list[str], str]) -> list[bool]:
    sample, gens, mode = args
    out = []
    for g in gens:
        early = precheck(mode, sample, g)
        out.append(early if early is not None else manager_process_check(check_program(sample, g)))
    return out


def official(samples, generations, mode: str, workers: int) -> list[list[bool]]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(
            pool.map(
                _score_sample, [(s, g, mode) for s, g in zip(samples, generations, strict=True)]
            )
        )


def kodeio(samples, generations, mode: str, workers: int) -> list[list[bool]]:
    config = cruxeval_sandbox().model_copy(update={"workers": workers})
    with Sandbox(config) as sandbox:
        scores, _ = score_generations(samples, generations, mode, sandbox, 3.0)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--gens", type=int, default=5, help="generations per sample (<= 8)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    samples, generations = make_benchmark(args.samples, min(8, args.gens))
    checks = sum(len(g) for g in generations)
    print(
        f"machine: {platform.machine()} {os.cpu_count()} CPUs, python {platform.python_version()}"
    )
    print(f"benchmark: {len(samples)} samples x {args.gens} generations = {checks} checks, "
          f"{args.workers} parallel workers, output mode")  # fmt: skip

    t = time.perf_counter()
    theirs = official(samples, generations, "output", args.workers)
    t_official = time.perf_counter() - t

    t = time.perf_counter()
    ours = kodeio(samples, generations, "output", args.workers)
    t_kodeio = time.perf_counter() - t  # includes starting the sandbox workers

    assert ours == theirs, "verdicts differ between the official approach and kodeio"
    m = summarize(ours)
    print(f"pass@1 {m['pass_at_1']:.2f} on both sides (verdicts identical)")
    print(
        f"official approach (Manager+Process per check): {t_official:7.2f} s  {checks / t_official:8.1f} checks/s"
    )
    print(
        f"kodeio (sandbox fork server, bwrap+seccomp):    {t_kodeio:7.2f} s  {checks / t_kodeio:8.1f} checks/s"
    )
    print(f"ratio: {t_official / t_kodeio:.1f}x")


if __name__ == "__main__":
    main()
