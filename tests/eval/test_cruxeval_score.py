"""`kodeio eval score-cruxeval` gives the official scorer's verdicts, quirks included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kodeio.cli import main
from kodeio.eval.cruxeval import CruxSample, official_pass_at_k, precheck
from kodeio.eval.stats import pass_at_k, wilson_interval

HERE = Path(__file__).resolve().parent


def write_fixture(root: Path, cases: list[tuple]) -> tuple[Path, Path, Path]:
    data = root / "cruxeval.jsonl"
    with data.open("w", encoding="utf-8") as fh:
        for i, (_, code, inp, out, _, _) in enumerate(cases):
            fh.write(
                json.dumps({"code": code, "input": inp, "output": out, "id": f"sample_{i}"}) + "\n"
            )
    gens = {}
    for mode, column in (("output", 4), ("input", 5)):
        path = root / f"generations_{mode}.json"
        path.write_text(
            json.dumps({f"sample_{i}": case[column] for i, case in enumerate(cases)}),
            encoding="utf-8",
        )
        gens[mode] = path
    return data, gens["output"], gens["input"]


@pytest.fixture(scope="module")
def scored(tmp_path_factory, cruxeval_cases):
    """Both modes scored by kodeio and by the reference re-implementation."""
    root = tmp_path_factory.mktemp("crux")
    data, gen_out, gen_in = write_fixture(root, cruxeval_cases)
    results = {}
    for mode, gens in (("output", gen_out), ("input", gen_in)):
        ours = root / f"ours_{mode}.json"
        rc = main(
            [
                "eval", "score-cruxeval", "--data", str(data), "-g", str(gens),
                "--mode", mode, "-o", str(ours), "--workers", "2",
            ]
        )  # fmt: skip
        assert rc == 0
        ref = root / f"ref_{mode}.json"
        subprocess.run(
            [
                sys.executable,
                str(HERE / "official_reference.py"),
                str(data),
                str(gens),
                mode,
                str(ref),
            ],
            check=True,
            timeout=600,
        )
        results[mode] = (
            json.loads(ours.read_text(encoding="utf-8")),
            json.loads(ref.read_text(encoding="utf-8")),
            root,
        )
    return results


@pytest.mark.parametrize("mode", ["output", "input"])
def test_verdicts_equal_the_reimplemented_reference(scored, mode, cruxeval_cases):
    ours, ref, _ = scored[mode]
    assert set(ours) == {"raw_generations", "raw_scored_generations", "pass_at_1", "pass_at_5"}
    for i, (why, *_rest) in enumerate(cruxeval_cases):
        key = f"sample_{i}"
        assert ours["raw_scored_generations"][key] == ref["raw_scored_generations"][key], why
    assert ours["pass_at_1"] == ref["pass_at_1"]
    assert ours["pass_at_5"] == ref["pass_at_5"]
    assert ours["raw_generations"] == ref["raw_generations"]


@pytest.fixture(scope="module")
def verdicts(scored, cruxeval_cases):
    """`verdicts(mode, why)`: kodeio's verdicts on the generations of the case named `why`."""

    def of(mode: str, why: str) -> list[bool]:
        index = next(i for i, case in enumerate(cruxeval_cases) if case[0] == why)
        return scored[mode][0]["raw_scored_generations"][f"sample_{index}"]

    return of


def test_quirks_are_reproduced(verdicts):
    """Spot checks, so the comparison above cannot pass by both sides being all-False."""
    assert verdicts("output", "plain right and wrong") == [True, False]
    assert verdicts("input", "plain right and wrong") == [True, False]
    assert verdicts("output", "quirk: textual concatenation, 'or True' always passes") == [
        True,
        True,
    ]
    assert verdicts("output", "quirk: comma turns the rest into the assert message") == [
        True,
        False,
    ]
    assert verdicts("output", "quirk: a newline runs more statements") == [
        True,
        False,
        False,
    ]
    assert verdicts("output", "output mode: repeating the call f(<input>) is wrong") == [
        False,
        False,
        True,
    ]
    assert verdicts("input", "input mode: no 'f(' text is wrong unexecuted") == [False] * 4
    assert verdicts("output", "an endless prediction times out") == [False]
    # f(2501) is right by value but needs ~1250 frames: CPython's default limit says no.
    assert verdicts("input", "deep recursion hits the default limit") == [True, False, True]
    assert verdicts("output", "deep recursion hits the default limit") == [
        True,
        False,
        True,
    ]
    assert verdicts("output", "float equality is exact") == [False, True, True]
    assert verdicts("output", "no generations at all (n = 0 counts as solved)") == []


def test_report_and_check_cache(scored, cruxeval_cases):
    root = scored["output"][2]
    report = json.loads((root / "ours_output.report.json").read_text(encoding="utf-8"))
    assert report["kind"] == "cruxeval_score"
    assert report["metrics"]["cruxeval-output/pass@1"] == pytest.approx(
        scored["output"][0]["pass_at_1"]
    )
    assert report["counts"]["samples"] == len(cruxeval_cases)
    assert report["counts"]["executed"] > 0
    checks = (root / "ours_output.checks.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(checks) == report["counts"]["executed"]
    assert not (root / "ours_output.checks.jsonl.partial").exists()


def test_rerun_executes_nothing_new(scored, tmp_path):
    """A second run over the same generations reuses every verdict from the check cache."""
    root = scored["output"][2]
    data = root / "cruxeval.jsonl"
    out = root / "ours_output.json"
    before = out.read_text(encoding="utf-8")
    assert main(["eval", "score-cruxeval", "--data", str(data), "-g", str(root / "generations_output.json"),
                 "--mode", "output", "-o", str(out)]) == 0  # fmt: skip
    report = json.loads((root / "ours_output.report.json").read_text(encoding="utf-8"))
    assert report["counts"]["executed"] == 0
    assert report["counts"]["cached"] > 0
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(before)


def test_official_pass_at_k_quirks():
    assert official_pass_at_k(1, 0, 5) == 1.0  # fewer than k samples: counted as solved
    assert official_pass_at_k(0, 0, 1) == 1.0
    assert official_pass_at_k(10, 0, 1) == 0.0
    assert official_pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert official_pass_at_k(10, 3, 5) == pytest.approx(pass_at_k(10, 3, 5))
    lo, hi = wilson_interval(0, 20)
    assert lo == 0.0 and 0.1 < hi < 0.2


def test_precheck_rules():
    s = CruxSample(0, "def f(x): return x", "1", "1")
    assert precheck("input", s, "1") is False
    assert precheck("input", s, "f(1)") is None
    assert precheck("output", s, "f(1)") is False
    assert precheck("output", s, "f( 1)") is None


@pytest.mark.parametrize(
    ("gens", "message"),
    [
        ({"sample_0": ["1"]}, "missing key 'sample_1'"),
        ({"sample_0": ["1"], "sample_1": "2"}, "key 'sample_1' must be a list"),
        ({"sample_0": ["1"], "sample_1": [2]}, "sample_1[0] must be a string"),
        (["1", "2"], "expected a JSON object"),
    ],
)
def test_bad_generations_are_one_line_errors(tmp_path, capsys, gens, message):
    data = tmp_path / "d.jsonl"
    data.write_text(
        '{"code": "def f(x): return x", "input": "1", "output": "1"}\n' * 2, encoding="utf-8"
    )
    g = tmp_path / "g.json"
    g.write_text(json.dumps(gens), encoding="utf-8")
    out = tmp_path / "out.json"
    rc = main(
        [
            "eval",
            "score-cruxeval",
            "--data",
            str(data),
            "-g",
            str(g),
            "--mode",
            "output",
            "-o",
            str(out),
        ]
    )
    assert rc == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_bad_data_row(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_text('{"code": "x", "input": 1, "output": "1"}\n', encoding="utf-8")
    g = tmp_path / "g.json"
    g.write_text('{"sample_0": ["1"]}', encoding="utf-8")
    rc = main(
        [
            "eval",
            "score-cruxeval",
            "--data",
            str(data),
            "-g",
            str(g),
            "-o",
            str(tmp_path / "o.json"),
        ]
    )
    assert rc == 1
    assert f"{data}:1: key 'input' must be a string" in capsys.readouterr().err
