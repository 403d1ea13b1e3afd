"""`kodeio verify` end to end: the three formats, the summary, errors, resume, overrides."""

from __future__ import annotations

import json

import pytest

from kodeio.cli import main
from kodeio.files import partial_path, write_jsonl

DOUBLE = "def f(x):\n    return x * 2\n"


def _rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_kodeio_format_end_to_end(tmp_path, capsys, verify_rows):
    pred = tmp_path / "pred.jsonl"
    write_jsonl(pred, verify_rows())
    out = tmp_path / "verdicts.jsonl"
    assert main(["verify", str(pred), "-o", str(out), "--workers", "1", "--timeout", "2"]) == 0
    rows = {r["id"]: r for r in _rows(out)}
    assert list(rows) == ["out-ok", "in-wrong", "in-ok", "in-none", "py-tuple", "float"]
    assert set(rows["out-ok"]) >= {"id", "correct", "reason", "produced"}
    assert (rows["out-ok"]["correct"], rows["out-ok"]["reason"]) == (True, "match")
    assert (rows["in-wrong"]["reason"], rows["in-wrong"]["produced"]) == ("mismatch", 8)
    assert (rows["in-ok"]["correct"], rows["in-ok"]["produced"]) == (True, 6)
    assert rows["in-none"]["reason"] == "no_answer"
    assert rows["py-tuple"]["correct"] and rows["py-tuple"]["produced_repr"] == "(2, 2)"
    assert rows["float"]["reason"] == "mismatch"
    assert not partial_path(out).exists()
    err = capsys.readouterr().err
    assert "accuracy" in err and "no_answer" in err and "mismatch" in err


def test_set_overrides_the_tolerance(tmp_path, verify_rows):
    pred = tmp_path / "pred.jsonl"
    write_jsonl(pred, verify_rows()[-1:])
    out = tmp_path / "v.jsonl"
    assert main(["verify", str(pred), "-o", str(out), "--set", "rel_tol=0.1"]) == 0
    assert _rows(out)[0]["correct"] is True


def test_recipe_section_is_read(tmp_path, verify_rows):
    pred = tmp_path / "pred.jsonl"
    write_jsonl(pred, verify_rows()[-1:])
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("seed: 1\nverify:\n  rel_tol: 0.1\n  sandbox:\n    workers: 1\n")
    out = tmp_path / "v.jsonl"
    assert main(["verify", str(pred), "-o", str(out), "--config", str(recipe)]) == 0
    assert _rows(out)[0]["correct"] is True


def test_codeio_format_runs_with_codeio_imports(tmp_path):
    refcode = (
        "def main_solution(words):\n"
        "    counts = Counter(words)\n"
        "    return {'top': counts.most_common(1)[0][0], 'mean': float(np.mean([len(w) for w in words]))}\n"
    )
    rows = [
        {
            "refcode": refcode,
            "funcname": "main_solution",
            "io": {"input": {"words": ["a", "bb", "a"]}, "output": {"top": "a", "mean": 4 / 3}},
            "mode": "input_pred",
            "response": '</think>\n```json\n{"input": {"words": ["a", "a", "bb"]}}\n```',
        },
        {
            "id": "o1",
            "refcode": refcode,
            "input": {"words": ["a"]},
            "output": {"top": "a", "mean": 1.0},
            "mode": "output",
            "prediction": '```json\n{"output": {"mean": 1, "top": "a"}}\n```',
        },
    ]
    pred = tmp_path / "codeio.jsonl"
    write_jsonl(pred, rows)
    out = tmp_path / "v.jsonl"
    assert main(["verify", str(pred), "-o", str(out), "--format", "codeio"]) == 0
    got = _rows(out)
    assert [r["id"] for r in got] == ["codeio:1", "o1"]
    assert [(r["correct"], r["reason"]) for r in got] == [(True, "match"), (True, "match")]


def test_cruxeval_format(tmp_path):
    code = "def f(text):\n    return text[::-1] + text"
    rows = [
        {"id": "sample_0", "code": code, "input": "'hi'", "output": "'ihhi'", "prediction": p}
        for p in ("f('hi')", "f('ih')", "'hi'")
    ]
    for i, row in enumerate(rows):
        row["id"] = f"sample_{i}"
    pred = tmp_path / "crux.jsonl"
    write_jsonl(pred, rows)
    out = tmp_path / "v.jsonl"
    args = ["verify", str(pred), "-o", str(out), "--format", "cruxeval", "--mode", "input"]
    assert main(args) == 0
    assert [(r["correct"], r["reason"]) for r in _rows(out)] == [
        (True, "match"),
        (False, "mismatch"),
        (False, "not_a_call"),
    ]


def test_resume_skips_rows_already_judged(tmp_path, verify_rows):
    pred = tmp_path / "pred.jsonl"
    write_jsonl(pred, verify_rows())
    out = tmp_path / "v.jsonl"
    # A run killed after its first verdict: a doctored row proves it is kept, not redone.
    kept = {"id": "out-ok", "correct": False, "reason": "kept-from-before", "produced": None}
    partial_path(out).write_text(json.dumps(kept) + "\n" + '{"id": "in-wr', encoding="utf-8")
    assert main(["verify", str(pred), "-o", str(out), "--workers", "1"]) == 0
    rows = _rows(out)
    assert [r["id"] for r in rows] == [r["id"] for r in verify_rows()]
    assert rows[0]["reason"] == "kept-from-before"
    assert rows[1]["reason"] == "mismatch"


@pytest.mark.parametrize(
    ("row", "fmt", "message"),
    [
        (
            {"id": 1, "entry": "f", "mode": "output", "output": 1, "prediction": "x"},
            "kodeio",
            "missing key 'code'",
        ),
        (
            {
                "id": 1,
                "code": DOUBLE,
                "entry": "f",
                "mode": "sideways",
                "output": 1,
                "prediction": "x",
            },
            "kodeio",
            "'mode'",
        ),
        (
            {"id": 1, "code": DOUBLE, "entry": "f", "output": 1, "prediction": "x"},
            "kodeio",
            "--mode",
        ),
        (
            {"id": 1, "code": DOUBLE, "entry": "f", "mode": "input", "prediction": "x"},
            "kodeio",
            "'output'",
        ),
        (
            {
                "id": 1,
                "code": DOUBLE,
                "entry": "f",
                "mode": "input",
                "output": 1,
                "prediction": "x",
                "policy": "yaml",
            },
            "kodeio",
            "'policy'",
        ),
        (
            {
                "id": 1,
                "code": DOUBLE,
                "entry": "f",
                "mode": "input",
                "output_repr": "f(1)",
                "prediction": "x",
            },
            "kodeio",
            "not a Python literal",
        ),
        (
            {
                "id": 1,
                "code": DOUBLE,
                "input": "1",
                "output": "[1, 2",
                "prediction": "x",
                "mode": "output",
            },
            "cruxeval",
            "'output' is not a Python literal",
        ),
        ({"refcode": DOUBLE, "output": 1, "mode": "output"}, "codeio", "'prediction'"),
    ],
)
def test_bad_rows_are_one_line_errors(tmp_path, capsys, row, fmt, message, verify_rows):
    pred = tmp_path / "bad.jsonl"
    good = verify_rows()[0] if fmt == "kodeio" else None
    write_jsonl(pred, ([good] if good else []) + [row])
    out = tmp_path / "v.jsonl"
    assert main(["verify", str(pred), "-o", str(out), "--format", fmt]) == 1
    err = capsys.readouterr().err
    line = 2 if good else 1
    assert f"bad.jsonl:{line}" in err and message in err, err
    assert "Traceback" not in err
    assert not out.exists() and not partial_path(out).exists()


def test_duplicate_ids_are_refused(tmp_path, capsys, verify_rows):
    pred = tmp_path / "dup.jsonl"
    write_jsonl(pred, [verify_rows()[0], verify_rows()[0]])
    assert main(["verify", str(pred), "-o", str(tmp_path / "v.jsonl")]) == 1
    assert "duplicate id 'out-ok'" in capsys.readouterr().err


def test_bad_option_value_is_a_config_error(tmp_path, capsys, verify_rows):
    pred = tmp_path / "p.jsonl"
    write_jsonl(pred, verify_rows()[:1])
    rc = main(["verify", str(pred), "-o", str(tmp_path / "v.jsonl"), "--format", "xml"])
    assert rc == 2
    assert "format" in capsys.readouterr().err
