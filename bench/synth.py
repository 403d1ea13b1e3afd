"""Benchmark: how much of the wall time is the in-process engine busy during `synth run`?

The same synthesis job runs on an in-process vLLM engine (`vllm.LLM`) in two ways:

- baseline  (`pipelined=False`): generate a batch, verify it, then generate the next one --
            the engine idles while the sandbox judges;
- kodeio    (`pipelined=True`):  verification and revision run in a thread while the engine
            already generates the next batch.

Fairness: every side of every round gets a fresh interpreter and a fresh engine with vLLM's
prefix cache off (`enable_prefix_caching=False`), so no run reuses the prefill of the one
before it; rounds alternate which side goes first. Engine start-up is excluded from both.
It prints the engine-busy share of each (goal: >= 95% for kodeio) and the throughput ratio,
per round and as medians. By default it builds the tiny random Qwen2 used by the tests, so
it runs anywhere; pass `--model` for a real one.

    python bench/synth.py [--pairs 48] [--max-tokens 64] [--batch-size 32] [--rounds 2] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def make_pairs(path: Path, n: int) -> Path:
    """n distinct small functions with their true outputs (bench-authored, trusted code)."""
    rows = []
    for i in range(n):
        code = (
            "def f(xs):\n"
            f"    total = {i}\n"
            "    for x in xs:\n"
            f"        total = (total * {31 + i % 7} + x) % {1000 + i}\n"
            "    return total\n"
        )
        xs = [(i * 7 + k * 3) % 50 for k in range(3 + i % 4)]
        scope: dict[str, Any] = {}
        exec(code, scope)  # our own generated code, not model output
        out = scope["f"](list(xs))
        rows.append(
            {
                "id": f"bench-{i}",
                "seed_id": f"bench-{i}",
                "code": code,
                "entry": "f",
                "input": {"args": [], "kwargs": {"xs": xs}},
                "output": out,
                "output_repr": repr(out),
                "policy": "json",
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def run_side(args: argparse.Namespace) -> None:
    """One side in this fresh process: start an engine without prefix caching, run, print JSON."""
    import kodeio.llm.vllm_backend as vllm_backend
    from kodeio.synth.config import SynthConfig
    from kodeio.synth.pipeline import SynthRun

    kwargs_of = vllm_backend.engine_kwargs

    def no_prefix_cache(*a: Any, **kw: Any) -> dict[str, Any]:
        return {**kwargs_of(*a, **kw), "enable_prefix_caching": False}

    vllm_backend.engine_kwargs = no_prefix_cache  # the bench's knob, not a kodeio setting
    name = args.side
    for suffix in ("", ".partial", ".gen.jsonl"):
        (args.workdir / f"{name}.jsonl{suffix}").unlink(missing_ok=True)
    cfg = SynthConfig.model_validate(
        {
            "pairs": str(args.workdir / "io.jsonl"),
            "output": str(args.workdir / f"{name}.jsonl"),
            "backend": "vllm",
            "model": str(args.model),
            "batch_size": args.batch_size,
            "sampling": {"max_tokens": args.max_tokens},
            "vllm": {"dtype": "float32", "max_model_len": 2048, "kv_cache_gb": 0.5},
        }
    )
    t0 = time.perf_counter()
    backend = vllm_backend.VllmBackend(str(args.model), cfg.vllm, seed=0)
    start = time.perf_counter() - t0
    assert backend.engine_kwargs["enable_prefix_caching"] is False
    try:
        stats = SynthRun(cfg, backend=backend, progress=False, pipelined=name == "kodeio").run()
    finally:
        backend.close()
    print(
        "RESULT "
        + json.dumps(
            {
                "side": name,
                "engine_start": start,
                "traces": stats.traces,
                "requests": stats.generated_requests,
                "wall": stats.wall_seconds,
                "busy": stats.engine_seconds,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=48)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="each runs both sides")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--side", choices=["baseline", "kodeio"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        run_side(args)
        return

    work = args.workdir or Path(tempfile.mkdtemp(prefix="kodeio-bench-synth-"))
    work.mkdir(parents=True, exist_ok=True)
    model = args.model
    if model is None:
        from kodeio.testing.tiny import build_tiny_model

        model = build_tiny_model(work / "tiny")
    make_pairs(work / "io.jsonl", args.pairs)

    results: dict[str, list[dict[str, Any]]] = {"baseline": [], "kodeio": []}
    for r in range(args.rounds):
        order = ("baseline", "kodeio") if r % 2 == 0 else ("kodeio", "baseline")
        for name in order:
            cmd = [sys.executable, __file__, "--side", name, "--workdir", str(work),
                   "--model", str(model), "--pairs", str(args.pairs),
                   "--max-tokens", str(args.max_tokens), "--batch-size", str(args.batch_size)]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
            if proc.returncode != 0 or line is None:
                sys.exit(f"{name} (round {r + 1}) failed:\n{proc.stderr[-3000:]}")
            res = json.loads(line[len("RESULT ") :])
            results[name].append(res)
            print(
                f"round {r + 1} {name:9s} traces {res['traces']:4d}  requests {res['requests']:4d}  "
                f"wall {res['wall']:7.1f} s  engine busy {res['busy']:7.1f} s "
                f"= {100 * res['busy'] / res['wall']:5.1f}%  "
                f"{res['traces'] / res['wall']:6.2f} traces/s  "
                f"(engine start {res['engine_start']:.0f} s, excluded)",
                flush=True,
            )
    share = {k: statistics.median(x["busy"] / x["wall"] for x in v) for k, v in results.items()}
    ratios = [
        (o["traces"] / o["wall"]) / (b["traces"] / b["wall"])
        for b, o in zip(results["baseline"], results["kodeio"], strict=True)
    ]
    print(
        f"busy share (median of {args.rounds} rounds): kodeio {100 * share['kodeio']:.1f}% vs "
        f"baseline {100 * share['baseline']:.1f}% (goal >= 95%); throughput ratio per round "
        + ", ".join(f"{x:.2f}x" for x in ratios)
        + f", median {statistics.median(ratios):.2f}x"
    )


if __name__ == "__main__":  # vLLM spawns an engine process: the guard is required
    main()
