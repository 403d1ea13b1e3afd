"""Shared fixtures: the fixture corpora and one full run over them (session-scoped)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodeio.sandbox import SandboxConfig
from kodeio.synth.io.config import IoConfig
from kodeio.synth.io.stage import IoStats, run_io

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = [
    FIXTURES / "codeio.jsonl",
    FIXTURES / "cruxeval.jsonl",
    FIXTURES / "kodeio_seeds.jsonl",
    FIXTURES / "pycorpus",
]


def io_config(output: Path, seeds: list[Path] | None = None, workers: int = 2, **extra) -> IoConfig:
    # timeout 1 s keeps the infinite-loop fixture cheap; everything else finishes in ms.
    return IoConfig(
        seeds=seeds if seeds is not None else CORPUS,
        output=output,
        sandbox=SandboxConfig(workers=workers, timeout=1.0),
        **extra,
    )


def read_rows(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


class CorpusRun:
    def __init__(self, stats: IoStats) -> None:
        self.stats = stats
        self.rows = read_rows(stats.output)
        self.rejects = read_rows(stats.rejects)

    def rows_of(self, seed_id: str) -> list[dict]:
        return [r for r in self.rows if r["seed_id"] == seed_id]

    def rejects_of(self, seed_id: str) -> list[dict]:
        return [r for r in self.rejects if r["seed_id"] == seed_id]


@pytest.fixture(scope="session")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    out = tmp_path_factory.mktemp("corpus") / "IO.jsonl"
    return CorpusRun(run_io(io_config(out)))
