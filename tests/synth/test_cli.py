"""`kodeio synth run|stats|export` through the real command line (scripted model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodeio.cli import main
from kodeio.files import read_jsonl


def script_file(tmp_path: Path) -> Path:
    script = {
        "rules": [
            {
                "match": "return n * 2",
                "completion": 'n=3.\n</think>\n\n```json\n{"output": 6}\n```',
            },
        ],
        "default": "no idea\n</think>\n\nnothing here",
    }
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    return path


def test_run_stats_export(
    pairs_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "traces.jsonl"
    argv = [
        "synth", "run", "--pairs", str(pairs_file), "-o", str(out), "--backend", "scripted",
        "--model", "scripted", "--modes", "output", "--set", f"script={script_file(tmp_path)}",
    ]  # fmt: skip
    assert main(argv) == 0
    rows = read_jsonl(out)
    assert len(rows) == 3
    assert [r["status"] for r in rows].count("verified_first") == 1

    assert main(["synth", "stats", str(out), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["traces"] == 3 and stats["verified"] == 1
    assert stats["accuracy_by_turn"]["output#1"] == {
        "correct": 1,
        "attempted": 3,
        "accuracy": 0.3333,
    }

    sft = tmp_path / "sft.jsonl"
    assert main(["synth", "export", str(out), "-o", str(sft), "--style", "single"]) == 0
    exported = read_jsonl(sft)
    assert len(exported) == 1
    assert exported[0]["messages"][1]["content"].startswith("<think>\nn=3.\n</think>\n\n")


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "io.jsonl"
    bad.write_text('{"id": "a", "code": "def f(): pass", "entry": "f", "input": 5, "output": 1}\n')
    code = main(["synth", "run", "--pairs", str(bad), "-o", str(tmp_path / "o.jsonl"),
                 "--backend", "scripted", "--set", f"script={script_file(tmp_path)}"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "io.jsonl:1: key 'input' must be an object or a string" in err
    assert "Traceback" not in err and not (tmp_path / "o.jsonl").exists()
    assert main(["synth", "run", "--pairs", str(bad), "-o", "x.jsonl", "--modes", "both"]) == 2
    assert main(["synth", "export", str(bad), "-o", str(tmp_path / "e.jsonl")]) == 1
    assert "missing key(s)" in capsys.readouterr().err
