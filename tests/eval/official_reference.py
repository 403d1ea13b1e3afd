"""A straightforward re-implementation of CRUXEval's official scoring semantics.

Run as a script (the tests start it in a subprocess, so the fixture programs never run
inside the test process): `python official_reference.py DATA GENERATIONS MODE OUT`.
Each program runs in a forked child with a 3 s SIGALRM limit and stdio swallowed; the
parent waits 4 s, then kills it. Pass iff the child reports success.
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import signal
import sys

import numpy as np


def _child(program: str, ok) -> None:
    def alarm(signum, frame):
        raise TimeoutError("timed out")

    signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, 3.0)
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            exec(program, {})
        ok.value = 1
    except BaseException:
        ok.value = 0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def passes(program: str) -> bool:
    ctx = multiprocessing.get_context("fork")
    ok = ctx.Value("i", 0)
    proc = ctx.Process(target=_child, args=(program, ok))
    proc.start()
    proc.join(4.0)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return False
    return bool(ok.value)


def pass_at_k(n: int, c: int, k: int) -> float:
    if n - c < k:
        return 1.0
    return 1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1))


def main() -> None:
    data_path, gens_path, mode, out_path = sys.argv[1:5]
    with open(data_path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    with open(gens_path, encoding="utf-8") as fh:
        gens = json.load(fh)
    scores = []
    for i, row in enumerate(rows):
        results = []
        for g in gens[f"sample_{i}"]:
            if mode == "input" and "f(" not in g or mode == "output" and f"f({row['input']})" in g:
                results.append(False)
            else:
                results.append(passes(f"{row['code']}\nassert {row['output']} == {g}"))
        scores.append(results)
    p1 = [pass_at_k(len(r), r.count(True), 1) for r in scores]
    p5 = [pass_at_k(len(r), r.count(True), 5) for r in scores]
    out = {
        "raw_generations": gens,
        "raw_scored_generations": {f"sample_{i}": s for i, s in enumerate(scores)},
        "pass_at_1": sum(p1) / len(p1) * 100,
        "pass_at_5": sum(p5) / len(p5) * 100,
    }
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main()
