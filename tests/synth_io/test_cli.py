"""`kodeio io run` end to end: summary, sharding, bad input, and the unify hook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from kodeio.errors import ConfigError
from kodeio.synth.io.seeds import RawCode, Seed
from kodeio.synth.io.stage import run_io
from kodeio.synth.io.unifier import Unifier, load_unifier, unified_seed

KODEIO = [sys.executable, "-m", "kodeio.cli"]


def kodeio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*KODEIO, *args], capture_output=True, text=True, cwd=cwd, env=env)


def test_cli_runs_and_prints_the_summary(tmp_path: Path, io_fixtures, read_rows) -> None:
    out = tmp_path / "IO.jsonl"
    proc = kodeio("io", "run", str(io_fixtures / "cruxeval.jsonl"), "-o", str(out), "--per-seed", "2",
                  "--workers", "1", "--timeout", "1", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for label in ("seeds read", "pairs kept", "rejects", "timeout"):
        assert label in proc.stderr
    rows = read_rows(out)
    assert [r["seed_id"] for r in rows] == [
        "sample_0",
        "sample_1",
        "sample_2",
        "sample_3",
        "sample_5",
    ]
    assert [r["reason"] for r in read_rows(tmp_path / "IO.rejects.jsonl")] == ["timeout"]


def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "seeds.jsonl"
    bad.write_text(
        json.dumps({"id": "a", "code": "def f(x):\n    return x", "entry": "f"})
        + "\n"
        + json.dumps({"id": "b", "entry": "f"})
        + "\n"
    )
    out = tmp_path / "out" / "IO.jsonl"
    proc = kodeio("io", "run", str(bad), "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error:") and f"{bad}:2: missing key 'code'" in " ".join(
        proc.stderr.split()
    )
    assert not out.parent.exists() or not any(out.parent.iterdir())

    proc = kodeio("io", "run", str(bad), "-o", str(out), "--set", "hash_seeds=[3, 3]", cwd=tmp_path)
    assert (
        proc.returncode == 2
        and "hash seeds must differ" in proc.stderr
        and "Traceback" not in proc.stderr
    )
    proc = kodeio("io", "run", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 2 and "give seed paths" in proc.stderr


def test_shards_partition_the_seeds(tmp_path: Path, io_fixtures, io_config, read_rows) -> None:
    seeds = [io_fixtures / "codeio.jsonl"]
    whole = read_rows(run_io(io_config(tmp_path / "all.jsonl", seeds, workers=1)).output)
    parts = []
    for k in (1, 2):
        stats = run_io(io_config(tmp_path / f"s{k}.jsonl", seeds, workers=1, shard=f"{k}/2"))
        assert stats.seeds_read == (6 if k == 1 else 5)
        parts += read_rows(stats.output)
    # The duplicate (line 10) lands in another shard than its original (line 1): shards
    # dedup only within themselves, so the merged shards hold it once more.
    assert {r["id"] for r in whole} <= {r["id"] for r in parts}
    assert len(parts) == len(whole) + 1


class FibUnifier:
    """A stand-in for the LLM unifier: wraps `fib` into CodeI/O's shape, declines the rest."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def unify(self, raw: Sequence[RawCode]) -> list[Seed | None]:
        self.calls.append([r.id for r in raw])
        out: list[Seed | None] = []
        for item in raw:
            if "fib" not in item.functions:
                out.append(None)
                continue
            code = item.code + "\n\ndef main_solution(n):\n    return fib(n)\n"
            generator = (
                "import random\n\ndef input_generator():\n    return {'n': random.randint(0, 30)}\n"
            )
            out.append(unified_seed(item, code, generator, "Fibonacci numbers.", "n: int", "math"))
        return out


def test_unifier_hook_turns_raw_python_into_seeds(
    tmp_path: Path, io_fixtures, io_config, read_rows
) -> None:
    unifier = FibUnifier()
    assert isinstance(unifier, Unifier)
    stats = run_io(
        io_config(tmp_path / "IO.jsonl", [io_fixtures / "pycorpus"], workers=1), unifier=unifier
    )
    assert unifier.calls == [["shapes", "counting"]]  # one batch per chunk
    rows = read_rows(stats.output)
    assert {r["seed_id"] for r in rows} == {"counting"} and len(rows) == 3
    for r in rows:
        assert r["entry"] == "main_solution" and r["policy"] == "json" and r["origin"] == "unify"
        assert r["problem_description"] == "Fibonacci numbers." and r["input_source"] == "generator"
    assert [(r["seed_id"], r["reason"]) for r in read_rows(stats.rejects)] == [
        ("shapes", "unify_declined")
    ]


def test_load_unifier_errors() -> None:
    with pytest.raises(ConfigError, match="module:attribute"):
        load_unifier("nocolon")
    with pytest.raises(ConfigError, match="cannot import"):
        load_unifier("kodeio.no_such_module:make")
    with pytest.raises(ConfigError, match="no attribute"):
        load_unifier("kodeio.synth.io.stage:nothing_here")
    assert isinstance(load_unifier(f"{__name__}:FibUnifier"), FibUnifier)
