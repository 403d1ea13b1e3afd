"""Fixtures of the synthesis tests (the shared pairs live in kodeio/testing/known_pairs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodeio.testing.known_pairs import write_pairs


@pytest.fixture
def pairs_file(tmp_path: Path) -> Path:
    return write_pairs(tmp_path / "io.jsonl")
