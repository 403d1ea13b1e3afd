"""One full run over the fixture corpora, shared by the stage and resume tests (session-scoped).

The corpora and `io_config` themselves are fixtures of tests/conftest.py: the scale tests
run them too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kodeio.synth.io.stage import IoStats, run_io


class CorpusRun:
    def __init__(self, stats: IoStats, read_rows: Callable[[Path], list[dict]]) -> None:
        self.stats = stats
        self.rows = read_rows(stats.output)
        self.rejects = read_rows(stats.rejects)

    def rows_of(self, seed_id: str) -> list[dict]:
        return [r for r in self.rows if r["seed_id"] == seed_id]

    def rejects_of(self, seed_id: str) -> list[dict]:
        return [r for r in self.rejects if r["seed_id"] == seed_id]


@pytest.fixture(scope="session")
def corpus_run(
    tmp_path_factory: pytest.TempPathFactory,
    io_config: Callable[..., object],
    read_rows: Callable[[Path], list[dict]],
) -> CorpusRun:
    out = tmp_path_factory.mktemp("corpus") / "IO.jsonl"
    return CorpusRun(run_io(io_config(out)), read_rows)
