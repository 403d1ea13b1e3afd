"""`kodeio io run --ray` and `--shard K/N` + `kodeio merge`: the bytes of a plain run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kodeio.synth.io.stage import run_io

KODEIO = [sys.executable, "-m", "kodeio.cli"]


def kodeio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*KODEIO, *args], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, io_config) -> tuple[bytes, bytes]:
    """The reference: the fixture corpus on one machine, no Ray, no shards."""
    stats = run_io(io_config(tmp_path_factory.mktemp("plain") / "IO.jsonl", workers=1))
    return stats.output.read_bytes(), stats.rejects.read_bytes()


def test_ray_run_gives_the_bytes_of_a_plain_run(
    ray_cluster, plain: tuple[bytes, bytes], tmp_path: Path, io_config
) -> None:
    # Chunks of 3 seeds: many tasks over both nodes, and the corpus's duplicate seed lands
    # in another chunk than its original, so dedup must be settled across tasks.
    cfg = io_config(tmp_path / "IO.jsonl", workers=1, ray=ray_cluster.address, chunk_seeds=3)
    stats = run_io(cfg)
    assert (stats.output.read_bytes(), stats.rejects.read_bytes()) == plain
    assert b'"reason":"duplicate"' in plain[1]
    assert not list(tmp_path.glob("*.partial"))


def test_ray_rerun_after_a_dead_driver_does_only_the_missing_seeds(
    ray_cluster, plain: tuple[bytes, bytes], tmp_path: Path, io_config
) -> None:
    """A half-finished single-machine run resumed with --ray ends with the same bytes."""
    out = tmp_path / "IO.jsonl"
    script = Path(__file__).parents[1] / "synth_io" / "_die_after_writes.py"
    first = io_config(out, workers=1, chunk_seeds=3)
    proc = subprocess.run([sys.executable, str(script), first.model_dump_json(), "12"])
    assert proc.returncode == 137 and not out.exists()
    ledger = out.with_name(out.name + ".seeds.partial")
    done_before = len(ledger.read_text().splitlines()) - 1
    assert done_before > 0
    stats = run_io(io_config(out, workers=1, chunk_seeds=3, ray=ray_cluster.address))
    assert stats.resumed_seeds == done_before
    assert (stats.output.read_bytes(), stats.rejects.read_bytes()) == plain


def _dying_corpus(root: Path) -> Path:
    """Raw functions f(x); some repeat an earlier one's code (dedup across tasks), and one
    file is named so the test unifier kills its Ray worker when it meets it."""
    corpus = root / "corpus"
    corpus.mkdir()
    for i in range(12):
        name = "die_here" if i == 7 else f"m{i:02d}"
        k = i % 5  # files 5.. repeat the code of files 0..
        (corpus / f"{name}.py").write_text(f"def f(x):\n    return x * {k} + {k}\n")
    return corpus


def test_a_killed_ray_worker_loses_and_duplicates_nothing(
    ray_cluster, tmp_path: Path, io_config
) -> None:
    corpus = _dying_corpus(tmp_path)
    unifier = "scale.dying_unifier:WrapF"
    common = {"unifier": unifier, "chunk_seeds": 2, "per_seed": 2}
    reference = run_io(io_config(tmp_path / "plain.jsonl", [corpus], workers=1, **common))
    assert not ray_cluster.die_marker.exists()
    cfg = io_config(tmp_path / "ray.jsonl", [corpus], workers=1, ray=ray_cluster.address, **common)
    stats = run_io(cfg)
    assert ray_cluster.die_marker.exists(), "the worker was not killed; the test proves nothing"
    assert stats.output.read_bytes() == reference.output.read_bytes()
    assert stats.rejects.read_bytes() == reference.rejects.read_bytes()
    ids = [json.loads(line)["id"] for line in stats.output.read_text().splitlines()]
    assert len(ids) == len(set(ids)) and len(ids) > 0


@pytest.mark.parametrize("n", [1, 3])
def test_shards_merge_into_the_bytes_of_a_plain_run(
    plain: tuple[bytes, bytes], tmp_path: Path, n: int, io_config
) -> None:
    shards = []
    for k in range(1, n + 1):
        shards.append(run_io(io_config(tmp_path / f"s{k}.jsonl", workers=1, shard=f"{k}/{n}")))
    merged = tmp_path / "merged.jsonl"
    proc = kodeio("merge", *[str(s.output) for s in reversed(shards)], "-o", str(merged),
                  cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rejects = tmp_path / "merged.rejects.jsonl"
    assert (merged.read_bytes(), rejects.read_bytes()) == plain


def test_merge_refuses_incomplete_doubled_or_foreign_shards(
    tmp_path: Path, io_corpus, io_fixtures, io_config
) -> None:
    seeds = [io_fixtures / "codeio.jsonl"]
    s1 = run_io(io_config(tmp_path / "s1.jsonl", seeds, workers=1, shard="1/2")).output
    s2 = run_io(io_config(tmp_path / "s2.jsonl", seeds, workers=1, shard="2/2")).output
    other = run_io(
        io_config(tmp_path / "o2.jsonl", seeds, workers=1, shard="2/2", per_seed=1)
    ).output
    merged = tmp_path / "merged.jsonl"
    cases = {
        "missing": ([s1], "shard(s) 2 of 2 missing"),
        "doubled": ([s1, s2, s2], "given twice"),
        "foreign": ([s1, other], "fingerprints differ"),
        "not a shard": ([s1, io_corpus[0]], "missing; merge needs the ledger"),
    }
    for name, (inputs, message) in cases.items():
        proc = kodeio("merge", *map(str, inputs), "-o", str(merged), cwd=tmp_path)
        assert proc.returncode != 0, name
        assert message in proc.stderr, (name, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, (name, proc.stderr)
        assert not merged.exists() and not list(tmp_path.glob(".merged*"))


def test_an_unreachable_ray_address_is_one_line_and_writes_nothing(
    tmp_path: Path, io_fixtures
) -> None:
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        out = tmp_path / "IO.jsonl"
        proc = kodeio("io", "run", str(io_fixtures / "codeio.jsonl"), "-o", str(out),
                      "--ray", f"127.0.0.1:{port}", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 1
    assert "no Ray head answers there" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []
