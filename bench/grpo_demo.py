"""The CPU GRPO demonstration (issue #23): SmolLM2-135M on the quickstart's easiest pairs.

    OMP_NUM_THREADS=1 .venv/bin/python bench/grpo_demo.py [--out runs/grpo-demo] [--steps 8]

(one OpenMP thread: on a shared 2-core box two threads made generation many times slower;
results: docs/benchmarks/rl.md)

1. I/O pairs: `kodeio io run` on the quickstart seeds, with configs/quickstart-cpu.yaml's
   io settings (2 pairs per seed).
2. The easiest output predictions, by a stated heuristic (no pass-rate labels: those need
   n samples per pair from synthesis): a scalar output (bool, None, an int under 1000 in
   size, or a string of at most 12 characters), then the shortest code (non-blank lines),
   then the shortest output. Seeds, not pairs, are dealt out to the two sides in that
   order, alternately, so no function is both trained on and held out and both sides are
   equally easy. Exported with `kodeio synth export --format rl --modes output`.
3. Before: greedy answers of the base model on the held-out prompts (and, with
   --train-eval, on the training prompts), rendered with the chat template as TRL renders them, cut at the same
   `max_completion_length`, scored by `ExecutionReward` (the reward GRPO trains on).
4. GRPO: the real `kodeio train --method grpo`, its own process.
5. After: the same greedy answers from the base model plus the trained adapter.

Prints the verified rate before and after with Wilson 95% intervals, the change with
Newcombe's interval (kodeio.eval.stats), item counts and seconds per GRPO step; writes
OUT/summary.json. Re-running reuses the pairs (OUT/io.jsonl), answers already generated
(OUT/{before,after}-*.jsonl) and a finished GRPO run (OUT/grpo).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kodeio.eval.stats import describe_change, wilson_interval  # noqa: E402
from kodeio.files import read_jsonl, write_jsonl  # noqa: E402

SEEDS = ROOT / "kodeio" / "synth" / "io" / "seeds" / "quickstart.jsonl"
KODEIO = [sys.executable, "-m", "kodeio.cli"]


def kodeio(*argv: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([*KODEIO, *argv], check=True, env=env, cwd=ROOT)


# ---- 1-2: pairs and the easiest of them -------------------------------------------------


def make_pairs(out: Path) -> Path:
    pairs = out / "io.jsonl"
    if not pairs.is_file():  # the quickstart's io settings (configs/quickstart-cpu.yaml)
        kodeio("io", "run", str(SEEDS), "-o", str(pairs), "--per-seed", "2", "--workers", "2",
               "--timeout", "2", "--set", "io.generator_tries=10",
               "--set", "io.hypothesis_examples=8")  # fmt: skip
    return pairs


def scalar(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) < 1000
    return isinstance(value, str) and len(value) <= 12


def easiness(row: dict[str, Any]) -> tuple[int, int]:
    """(non-blank code lines, output length): smaller is easier."""
    lines = sum(1 for line in row["code"].splitlines() if line.strip())
    return lines, len(json.dumps(row.get("output")))


def split_easy(pairs: Path, n_train: int, n_heldout: int) -> tuple[list[dict], list[dict]]:
    by_seed: dict[str, list[dict[str, Any]]] = {}
    for row in read_jsonl(pairs):
        if "output" in row and scalar(row["output"]) and row.get("policy", "json") == "json":
            by_seed.setdefault(row.get("seed_id") or row["id"], []).append(row)
    seeds = sorted(by_seed.values(), key=lambda rows: min(easiness(r) for r in rows))
    train: list[dict[str, Any]] = []
    heldout: list[dict[str, Any]] = []
    # Deal seeds 1:2 (the held-out side is twice the training side), easiest first.
    for i, rows in enumerate(seeds):
        side = train if i % 3 == 0 else heldout
        want = n_train if side is train else n_heldout
        side.extend(sorted(rows, key=easiness)[: want - len(side)])
        if len(train) >= n_train and len(heldout) >= n_heldout:
            break
    return train, heldout


def export(rows: list[dict[str, Any]], out: Path, name: str) -> Path:
    write_jsonl(out / f"{name}-pairs.jsonl", rows)
    target = out / f"{name}-rl.jsonl"
    kodeio("synth", "export", str(out / f"{name}-pairs.jsonl"), "--format", "rl",
           "--modes", "output", "-o", str(target))  # fmt: skip
    return target


# ---- 3, 5: greedy answers, scored by the training reward ---------------------------------


def greedy_answers(model_dir: str, adapter: Path | None, prompts: list[Any], max_new: int,
                   batch: int = 8) -> list[str]:  # fmt: skip
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    texts = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
             for p in prompts]  # fmt: skip
    # Batches of similar length: padding a 260-token prompt to 600 is wasted prefill.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    answers: dict[int, str] = {}
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            chunk = order[start : start + batch]
            enc = tokenizer([texts[i] for i in chunk], return_tensors="pt", padding=True,
                            add_special_tokens=False)  # fmt: skip
            out = model.generate(**enc, max_new_tokens=max_new, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)  # fmt: skip
            new = out[:, enc["input_ids"].shape[1] :]
            decoded = tokenizer.batch_decode(new, skip_special_tokens=True)
            answers.update(zip(chunk, decoded, strict=True))
            print(f"  greedy {len(answers)}/{len(texts)}", flush=True)
    return [answers[i] for i in range(len(texts))]


def score(model_dir: str, adapter: Path | None, rl: Path, max_new: int, dump: Path) -> dict:
    from kodeio.reward import ExecutionReward

    rows = read_jsonl(rl)
    start = time.perf_counter()
    if dump.is_file():  # a re-run scores the answers already generated
        answers = [d["answer"] for d in read_jsonl(dump)]
        timing = dump.with_suffix(".seconds")
        seconds = json.loads(timing.read_text()) if timing.is_file() else None
    else:
        answers = greedy_answers(model_dir, adapter, [r["prompt"] for r in rows], max_new)
        seconds = round(time.perf_counter() - start, 1)
        dump.with_suffix(".seconds").write_text(json.dumps(seconds))
    reward = ExecutionReward()
    try:
        scores = reward.score(answers, [r["verification_info"] for r in rows])
        reasons = [v.reason for v in reward.last_verdicts]
    finally:
        reward.close()
    write_jsonl(dump, [{"id": r["id"], "answer": a, "score": s, "reason": why}
                       for r, a, s, why in zip(rows, answers, scores, reasons, strict=True)])  # fmt: skip
    verified = int(sum(scores))
    lo, hi = wilson_interval(verified, len(rows))
    no_answer = sum(1 for why in reasons if why == "no_answer")
    return {"n": len(rows), "verified": verified, "rate": verified / len(rows),
            "wilson95": [lo, hi], "no_answer": no_answer, "seconds": seconds}  # fmt: skip


def line(name: str, r: dict[str, Any]) -> str:
    lo, hi = r["wilson95"]
    return (f"{name:<22} {r['verified']:>3}/{r['n']:<3} = {100 * r['rate']:5.1f}% "
            f"[{100 * lo:.1f}, {100 * hi:.1f}]  no answer {r['no_answer']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "grpo-demo")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--train", type=int, default=24, help="training prompts")
    parser.add_argument("--heldout", type=int, default=32, help="held-out prompts")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4, help="completions per step")
    parser.add_argument("--max-completion", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--train-eval", action="store_true",
                        help="also score the training prompts before and after")  # fmt: skip
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    from kodeio.models import resolve_model

    model_dir = resolve_model(args.model)
    train, heldout = split_easy(make_pairs(out), args.train, args.heldout)
    train_rl, heldout_rl = export(train, out, "train"), export(heldout, out, "heldout")
    print(f"easy pairs: {len(train)} train, {len(heldout)} held out "
          f"(seeds {len({r['seed_id'] for r in train})} / {len({r['seed_id'] for r in heldout})})")  # fmt: skip

    m = args.max_completion
    sides = {"heldout": heldout_rl, **({"train": train_rl} if args.train_eval else {})}
    before = {side: score(model_dir, None, rl, m, out / f"before-{side}.jsonl")
              for side, rl in sides.items()}  # fmt: skip
    for side, r in before.items():
        print(line(f"before · {side}", r), flush=True)

    run = out / "grpo"
    if not (run / "train_summary.json").is_file():
        sets = {
            "train.preset": "cpu-smoke",
            "train.samples": "false",
            "train.per_device_train_batch_size": str(args.batch),
            "train.gradient_accumulation_steps": "1",
            "train.lora_r": str(args.lora_r),
            "train.warmup_steps": "0",
            "train.lr_scheduler_type": "constant",
            "train.logging_steps": "1",
            "train.save_steps": str(args.steps),
            "train.max_seq_length": "1024",
            "train.grpo.num_generations": str(args.generations),
            "train.grpo.max_completion_length": str(m),
            "train.grpo.temperature": str(args.temperature),
            "train.grpo.beta": "0.0",
            "train.grpo.reward.sandbox.workers": "2",
        }
        argv = ["train", "--method", "grpo", "--model", args.model, "--data", str(train_rl),
                "-o", str(run), "--max-steps", str(args.steps), "--lr", str(args.lr),
                "--backend", "transformers"]  # fmt: skip
        for key, value in sets.items():
            argv += ["--set", f"{key}={value}"]
        print("kodeio " + " ".join(argv), flush=True)
        kodeio(*argv)
    summary = json.loads((run / "train_summary.json").read_text())
    steps = read_jsonl(run / "grpo_steps.jsonl")

    after = {side: score(model_dir, run / "adapter", rl, m, out / f"after-{side}.jsonl")
             for side, rl in sides.items()}  # fmt: skip
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"GRPO: {summary['global_step']} steps in {summary['train_seconds']:.0f} s "
          f"({summary['train_seconds'] / max(1, summary['global_step']):.1f} s/step)")  # fmt: skip
    for s in steps:
        print(f"  step {s['step']:>3}  reward {s['reward_mean']:.3f} ± {s['reward_std']:.3f}  "
              f"length {s['completion_length']:.0f}")  # fmt: skip
    result: dict[str, Any] = {"settings": vars(args) | {"out": str(out)}, "grpo": summary,
                              "steps": steps, "before": before, "after": after}  # fmt: skip
    for side in sides:
        a, b = before[side], after[side]
        print(line(f"before · {side}", a))
        print(line(f"after  · {side}", b))
        change = describe_change(100 * a["rate"], [100 * x for x in a["wilson95"]],
                                 100 * b["rate"], [100 * x for x in b["wilson95"]])  # fmt: skip
        result[f"change_{side}"] = change
        print(f"  change (points): {change}")
    (out / "summary.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
