"""Small text helpers shared by the readers, the formatter and the deduplicator."""

from __future__ import annotations

import unicodedata
from typing import Any

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


def clean_cell(value: Any) -> str:
    """A spreadsheet/CSV cell as trimmed NFC text ('' for empty cells).

    Korean exported on macOS is often NFD (decomposed jamo); NFC makes equal text equal bytes.
    Whole-number floats (Excel stores 3 as 3.0) are written without the '.0'.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def header_key(value: Any) -> str:
    """How column headers are compared: trimmed, NFC, inner whitespace collapsed."""
    return " ".join(clean_cell(value).split())


def has_think_block(content: str) -> bool:
    """True when an assistant message carries R1-style `<think>...</think>` reasoning."""
    start = content.find(THINK_OPEN)
    return start != -1 and content.find(THINK_CLOSE, start) != -1


def split_think(content: str) -> tuple[str | None, str]:
    """`<think>\\nR\\n</think>\\n\\nA` -> (R, A); content without a think block -> (None, content)."""
    if not has_think_block(content):
        return None, content.strip()
    start = content.find(THINK_OPEN)
    end = content.find(THINK_CLOSE, start)
    reasoning = content[start + len(THINK_OPEN) : end].strip()
    answer = content[end + len(THINK_CLOSE) :].strip()
    return reasoning, answer
