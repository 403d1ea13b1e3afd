"""Base and tuned models are evaluated from one vLLM engine: each request names its LoRA
adapter (or none). One engine start instead of two, and the same greedy answers as two
separate engines give."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = r"""
import json, sys
from pathlib import Path
import kodeio.llm.vllm_backend as vb
from kodeio.eval.config import TranslateEvalConfig
from kodeio.eval.suite import run_suite, run_suites

starts = []
init = vb.VllmBackend.__init__
def counted(self, model, config, *a, **k):
    starts.append(bool(config.enable_lora or config.lora_path))
    init(self, model, config, *a, **k)
vb.VllmBackend.__init__ = counted

model, adapter, data, out = sys.argv[1:5]
def cfg(where, with_adapter):
    return TranslateEvalConfig(
        data=data, output_dir=Path(out) / where, backend="vllm", model=model,
        adapter=adapter if with_adapter else None, name=where,
        sampling={"temperature": 0.0, "max_tokens": 12},
        vllm={"max_model_len": 512, "max_lora_rank": 8},
    )
run_suites([[("translate", cfg("shared-base", False))], [("translate", cfg("shared-tuned", True))]])
shared = list(starts)
run_suite([("translate", cfg("own-base", False))])
run_suite([("translate", cfg("own-tuned", True))])
print(json.dumps({"shared": shared, "all": starts}))
"""

PAIRS = [
    {"ko": "오늘 날씨가 좋네요.", "en": "The weather is nice today."},
    {"ko": "물 좀 주세요.", "en": "Some water, please."},
    {"ko": "역은 어디에 있나요?", "en": "Where is the station?"},
]


def completions(run: Path) -> dict[str, str]:
    rows = [json.loads(line) for line in (run / "items.jsonl").read_text("utf-8").splitlines()]
    return {r["id"] + r["direction"]: r["completion"] for r in rows}


def test_base_and_tuned_share_one_engine(tmp_path: Path, tmp_path_factory):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from kodeio.testing.tiny import tiny_model_dir

    model = tiny_model_dir(tmp_path_factory)
    adapter = tmp_path / "adapter"
    peft = get_peft_model(
        AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32),
        LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False),
    )  # fmt: skip
    peft.save_pretrained(adapter)
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in PAIRS), "utf-8")
    env = {**os.environ, "VLLM_LOGGING_LEVEL": "WARNING", "TOKENIZERS_PARALLELISM": "false"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(model), str(adapter), str(data), str(tmp_path / "o")],
        env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    starts = json.loads(out.stdout.strip().splitlines()[-1])
    # Base and tuned together: one engine, LoRA-enabled. Separately: two engines.
    assert starts["shared"] == [True]
    assert starts["all"] == [True, False, True]
    runs = tmp_path / "o"
    shared_base, own_base = completions(runs / "shared-base"), completions(runs / "own-base")
    shared_tuned, own_tuned = completions(runs / "shared-tuned"), completions(runs / "own-tuned")
    assert shared_base == own_base and shared_tuned == own_tuned
    assert shared_base != shared_tuned  # the adapter really was applied to the tuned requests
