"""Benchmark: how much of the wall time is the in-process engine busy during `synth run`?

One vLLM engine (in-process, `vllm.LLM`) runs the same synthesis job twice, side by side:

- baseline  (`pipelined=False`): generate a batch, verify it, then generate the next one --
            the engine idles while the sandbox judges;
- kodeio    (`pipelined=True`):  verification and revision run in a thread while the engine
            already generates the next batch.

It prints the engine-busy share of each (goal: >= 95% for kodeio) and the throughput ratio.
Engine start-up is excluded from both. By default it builds the tiny random Qwen2 used by
the tests, so it runs anywhere; pass `--model` for a real one.

    python bench/synth.py [--pairs 48] [--max-tokens 64] [--batch-size 32] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=48)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    from kodeio.llm.vllm_backend import VllmBackend
    from kodeio.synth.config import SynthConfig
    from kodeio.synth.pipeline import SynthRun

    work = args.workdir or Path(tempfile.mkdtemp(prefix="kodeio-bench-synth-"))
    work.mkdir(parents=True, exist_ok=True)
    model = args.model
    if model is None:
        from kodeio.testing.tiny import build_tiny_model

        model = build_tiny_model(work / "tiny")
    pairs = make_pairs(work / "io.jsonl", args.pairs)

    def config(name: str) -> SynthConfig:
        return SynthConfig.model_validate(
            {
                "pairs": str(pairs),
                "output": str(work / f"{name}.jsonl"),
                "backend": "vllm",
                "model": str(model),
                "batch_size": args.batch_size,
                "sampling": {"max_tokens": args.max_tokens},
                "vllm": {"dtype": "float32", "max_model_len": 2048, "kv_cache_gb": 0.5},
            }
        )

    for name in ("baseline", "kodeio"):
        for suffix in ("", ".partial", ".gen.jsonl"):
            (work / f"{name}.jsonl{suffix}").unlink(missing_ok=True)

    t0 = time.perf_counter()
    cfg = config("baseline")
    backend = VllmBackend(str(model), cfg.vllm, seed=0)
    print(f"engine start: {time.perf_counter() - t0:.1f} s (excluded below)")
    results = {}
    try:
        for name, pipelined in (("baseline", False), ("kodeio", True)):
            backend.meter.busy_seconds = 0.0
            run = SynthRun(config(name), backend=backend, progress=False, pipelined=pipelined)
            stats = run.run()
            results[name] = stats
            print(
                f"{name:9s} traces {stats.traces:4d}  requests {stats.generated_requests:4d}  "
                f"wall {stats.wall_seconds:7.1f} s  engine busy {stats.engine_seconds:7.1f} s "
                f"= {100 * stats.engine_busy_share:5.1f}%  "
                f"{stats.traces / stats.wall_seconds:6.2f} traces/s"
            )
    finally:
        backend.close()
    base, ours = results["baseline"], results["kodeio"]
    speed = (ours.traces / ours.wall_seconds) / (base.traces / base.wall_seconds)
    print(
        f"busy share: kodeio {100 * ours.engine_busy_share:.1f}% vs baseline "
        f"{100 * base.engine_busy_share:.1f}% (goal >= 95%); throughput ratio {speed:.2f}x"
    )


if __name__ == "__main__":  # vLLM spawns an engine process: the guard is required
    main()
