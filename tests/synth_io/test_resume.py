"""A run killed mid-write resumes with no duplicate and no lost row, byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kodeio.errors import InputError
from kodeio.files import partial_path
from kodeio.synth.io.stage import run_io

HELPER = Path(__file__).with_name("_die_after_writes.py")


def run_and_die(config_json: str, writes: int) -> int:
    env = {**os.environ, "PYTHONHASHSEED": "99"}
    proc = subprocess.run(
        [sys.executable, str(HELPER), config_json, str(writes)],
        env=env,
        capture_output=True,
        text=True,
    )
    return proc.returncode


def test_resume_after_kills_gives_identical_files(tmp_path: Path, corpus_run, io_config) -> None:
    out = tmp_path / "IO.jsonl"
    # Small chunks so that the kills fall both inside a chunk and after finished seeds.
    config = io_config(out, workers=1, chunk_seeds=4)
    assert run_and_die(config.model_dump_json(), 9) == 137
    assert not out.exists() and partial_path(out).exists()
    assert (
        partial_path(out).read_bytes()[-1:] != b"\n"
        or partial_path(config.rejects_path).read_bytes()[-1:] != b"\n"
    )
    assert run_and_die(config.model_dump_json(), 14) == 137
    stats = run_io(config)
    assert stats.resumed_seeds > 0
    assert out.read_bytes() == corpus_run.stats.output.read_bytes()
    assert config.rejects_path.read_bytes() == corpus_run.stats.rejects.read_bytes()
    assert not partial_path(out).exists() and not partial_path(config.rejects_path).exists()
    assert not list(tmp_path.glob("*.partial"))
    # The summary covers the whole run, not just the last part.
    assert stats.pairs_kept == corpus_run.stats.pairs_kept
    assert stats.rejects_by_reason == corpus_run.stats.rejects_by_reason


def test_other_worker_counts_host_hash_seeds_and_chunks_give_identical_files(
    tmp_path: Path, corpus_run, io_config
) -> None:
    out = tmp_path / "IO.jsonl"
    config = io_config(out, workers=3, chunk_seeds=5)
    assert run_and_die(config.model_dump_json(), 10**9) == 0
    assert out.read_bytes() == corpus_run.stats.output.read_bytes()
    assert config.rejects_path.read_bytes() == corpus_run.stats.rejects.read_bytes()


def test_resuming_with_another_config_is_refused(tmp_path: Path, io_config) -> None:
    out = tmp_path / "IO.jsonl"
    config = io_config(out, workers=1, chunk_seeds=2)
    assert run_and_die(config.model_dump_json(), 2) == 137
    changed = io_config(out, workers=1, per_seed=5)
    with pytest.raises(InputError, match="different config"):
        run_io(changed)


def test_hypothesis_inputs_drawn_in_worker_processes_match_serial_ones(
    tmp_path: Path, io_config
) -> None:
    corpus = tmp_path / "many.py"
    corpus.write_text(
        "\n\n".join(
            f"def f{i}(values: list[int], k: int, word: str) -> int:\n    return sum(values) * {i} + k + len(word)\n"
            for i in range(16)  # == PARALLEL_DERIVE_MIN: drawn in a process pool with 2 workers
        )
    )
    serial = run_io(io_config(tmp_path / "serial.jsonl", [corpus], workers=1))
    parallel = run_io(io_config(tmp_path / "parallel.jsonl", [corpus], workers=2))
    assert serial.pairs_kept == 48
    assert serial.output.read_bytes() == parallel.output.read_bytes()
