"""Pre-tokenizer recognition by split rules (pure, no llama.cpp run)."""

from __future__ import annotations

import json
from pathlib import Path

from kodeio.export.gguf_convert import QWEN2_SPLIT, classify_pre_tokenizer


def test_tiny_qwen2_tokenizer_is_qwen2(tiny_base: Path) -> None:
    data = json.loads((tiny_base / "tokenizer.json").read_text(encoding="utf-8"))
    assert classify_pre_tokenizer(data) == "qwen2"


def test_same_regex_as_transformers_qwen2() -> None:
    from transformers.models.qwen2 import tokenization_qwen2

    assert tokenization_qwen2.PRETOKENIZE_REGEX == QWEN2_SPLIT


def test_rules() -> None:
    byte_level = {
        "type": "ByteLevel",
        "add_prefix_space": False,
        "trim_offsets": True,
        "use_regex": True,
    }
    smollm = {
        "type": "Sequence",
        "pretokenizers": [{"type": "Digits", "individual_digits": True}, byte_level],
    }
    assert classify_pre_tokenizer({"model": {"type": "BPE"}, "pre_tokenizer": smollm}) == "smollm"
    assert classify_pre_tokenizer({"pre_tokenizer": byte_level}) == "gpt-2"
    other = {
        "type": "Split",
        "pattern": {"Regex": QWEN2_SPLIT[:-3]},
        "behavior": "Isolated",
        "invert": False,
    }
    seq = {"type": "Sequence", "pretokenizers": [other, {**byte_level, "use_regex": False}]}
    assert classify_pre_tokenizer({"pre_tokenizer": seq}) is None
    assert (
        classify_pre_tokenizer({"model": {"type": "Unigram"}, "pre_tokenizer": byte_level}) is None
    )
