"""Training throughput: packing vs padded batches, and Unsloth vs plain TRL, side by side.

    .venv/bin/python bench/train.py                       # CPU: tiny model, packing vs no packing
    .venv/bin/python bench/train.py --gpu --model DIR     # GPU: Unsloth vs plain TRL (+ packing)

Every variant is a real `kodeio train` run (its own process, so Unsloth's import-time
patches never leak into the plain-TRL run) on the same synthetic R1-style corpus: a short
question and a `<think>` trace whose length follows a long-tailed distribution, like real
reasoning data. Reported per variant: real (non-padding) tokens/s, padding waste counted on
the collated batches, and peak VRAM on a GPU. Ratios are against the first variant.

`--model` takes a local HF directory (the GPU box has no hub access); without it a tiny
random Qwen2 is built with kodeio.testing.tiny.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = [
    "first",
    "compute",
    "the",
    "sum",
    "then",
    "check",
    "each",
    "case",
    "carefully",
    "the",
    "value",
    "of",
    "x",
    "is",
    "even",
    "so",
    "we",
    "square",
    "it",
    "next",
    "the",
    "count",
    "is",
    "four",
    "because",
    "the",
    "list",
    "has",
    "four",
    "items",
    "wait",
    "let",
    "me",
    "verify",
    "again",
    "yes",
    "correct",
    "오늘",
    "날씨",
    "번역",
    "문장",
    "영어",
    "환자",
    "혈압",
    "약물",
    "치료",
]


def synthetic_corpus(path: Path, rows: int, seed: int, mean_words: int) -> None:
    """Conversations with long-tailed reasoning lengths (lognormal), deterministic per seed."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(rows):
            n = max(4, int(rng.lognormvariate(0, 0.8) * mean_words))
            reasoning = " ".join(rng.choice(WORDS) for _ in range(n))
            q = f"Question {i}: what is {rng.randint(1, 99)} + {rng.randint(1, 99)}?"
            answer = f"The answer is {rng.randint(2, 198)}."
            messages = [
                {"role": "user", "content": q},
                {"role": "assistant", "content": f"<think>\n{reasoning}\n</think>\n\n{answer}"},
            ]
            fh.write(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")


def run_variant(
    name: str, model: str, data: Path, out: Path, sets: list[str], env: dict[str, str]
) -> dict:
    cmd = [
        sys.executable, "-c", "import sys; from kodeio.cli import main; sys.exit(main())", "train",
        "--model", model, "--data", str(data), "--output-dir", str(out),
        "--set", "samples=false", "--set", "save_steps=100000",
    ]  # fmt: skip
    for item in sets:
        cmd += ["--set", item]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"variant {name} failed (exit {proc.returncode})")
    summary = json.loads((out / "train_summary.json").read_text())
    summary["variant"] = name
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="local HF model dir (default: build a tiny random Qwen2)")
    parser.add_argument("--gpu", action="store_true", help="GPU variants: Unsloth vs plain TRL")
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--mean-words", type=int, default=60, help="mean reasoning length in words")
    parser.add_argument("--max-steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--threads", type=int, default=None, help="OMP threads on CPU (default: all)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kodeio-bench-train-"))
    model = args.model
    if model is None:
        from kodeio.testing.tiny import build_tiny_model

        model = str(build_tiny_model(work / "tiny"))
    data = work / "corpus.jsonl"
    synthetic_corpus(data, args.rows, seed=0, mean_words=args.mean_words)

    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    common = [
        f"max_steps={args.max_steps}",
        f"per_device_train_batch_size={args.batch_size}",
        "gradient_accumulation_steps=1",
        "warmup_steps=0",
        "max_seq_length=4096",
    ]
    if args.gpu:
        common += ["load_in_4bit=false", "optim=adamw_torch", "gradient_checkpointing=true"]
        variants = [
            ("trl (plain), padded", ["backend=transformers", "packing=false"]),
            ("trl (plain), packed", ["backend=transformers", "packing=true"]),
            (
                "unsloth, padded",
                ["backend=unsloth", "packing=false", "gradient_checkpointing=unsloth"],
            ),
            (
                "unsloth, packed",
                ["backend=unsloth", "packing=true", "gradient_checkpointing=unsloth"],
            ),
        ]
    else:
        common += ["preset=cpu-smoke", f"per_device_train_batch_size={args.batch_size}"]
        # Unsloth's CPU path turns packing off (no FlashAttention on CPU), so the packing
        # comparison runs on the plain backend; Unsloth's padded run is shown for reference.
        variants = [
            ("trl, padded batches", ["backend=transformers", "packing=false"]),
            ("trl, bfd packing", ["backend=transformers", "packing=true"]),
            ("unsloth (cpu), padded batches", ["backend=unsloth", "packing=false"]),
        ]
    results = []
    for i, (name, sets) in enumerate(variants):
        print(f"[{i + 1}/{len(variants)}] {name} …", file=sys.stderr, flush=True)
        results.append(run_variant(name, model, data, work / f"run{i}", common + sets, env))

    base = results[0]
    print(f"\nmodel: {model}  rows: {args.rows}  steps: {args.max_steps}  batch: {args.batch_size}")
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cpus, python {platform.python_version()}"
    )
    header = (
        f"{'variant':32} {'backend':12} {'packed':>6} {'tokens/s':>10} {'x base':>7} {'pad waste':>10} "
        f"{'max_len':>8} {'peak VRAM GB':>13}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = (
            r["tokens_per_second"] / base["tokens_per_second"]
            if base["tokens_per_second"]
            else float("nan")
        )
        vram = f"{r['peak_vram_gb']:.2f}" if r.get("peak_vram_gb") is not None else "-"
        print(
            f"{r['variant']:32} {r['backend']:12} {str(r['packing_effective']):>6} "
            f"{r['tokens_per_second']:>10.1f} {ratio:>7.2f} "
            f"{r['padding_waste']:>10.1%} {r['max_length']:>8} {vram:>13}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
