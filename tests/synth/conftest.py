"""Fixtures of the synthesis tests (helpers live in synth_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from synth_fixtures import write_pairs


@pytest.fixture
def pairs_file(tmp_path: Path) -> Path:
    return write_pairs(tmp_path / "io.jsonl")
