"""Training data shared by the train tests: one R1-style conversation, as data and as a file."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

USER = "What is 12 + 30?"
REASONING = "I add 12 and 30. 12 + 30 = 42."
ANSWER = "The answer is 42."


@pytest.fixture(scope="session")
def conv() -> SimpleNamespace:
    """The conversation's parts (test_train checks each is trained, masked or memorized)."""
    return SimpleNamespace(
        user=USER,
        reasoning=REASONING,
        answer=ANSWER,
        eos="<｜end▁of▁sentence｜>",  # the tiny R1 tokenizer's EOS
        messages=[
            {"role": "user", "content": USER},
            {"role": "assistant", "content": f"<think>\n{REASONING}\n</think>\n\n{ANSWER}"},
        ],
    )


@pytest.fixture(scope="session")
def one_conv(conv: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """That conversation as a one-row training JSONL."""
    path = tmp_path_factory.mktemp("data") / "one.jsonl"
    path.write_text(json.dumps({"messages": conv.messages}) + "\n", encoding="utf-8")
    return path
