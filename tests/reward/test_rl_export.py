"""`kodeio synth export PAIRS --format rl`: GRPO prompts that the reward scores."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

from kodeio.cli import main
from kodeio.files import read_jsonl
from kodeio.synth.prompts import Pair, prediction_prompt
from kodeio.testing.known_pairs import PAIRS, write_pairs

# A right answer for every (pair, mode) of known_pairs.PAIRS.
RIGHT = {
    "double-3:output": '</think>\n```json\n{"output": 6}\n```',
    "double-3:input": '</think>\n```json\n{"input": {"n": 3}}\n```',
    "sort-1:output": '</think>\n```json\n{"output": [1, 2, 3]}\n```',
    "sort-1:input": '</think>\n```json\n{"input": {"xs": [2, 3, 1]}}\n```',
    "crux-1:output": "</think>\n('AB', 2)",
    "crux-1:input": "</think>\nf('ab')",
}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_export_rl_dataset_prompts_and_rewards(tmp_path: Path, language: str, reward) -> None:
    pairs = write_pairs(tmp_path / "io.jsonl")
    out = tmp_path / "rl"
    argv = ["synth", "export", str(pairs), "--format", "rl", "-o", str(out),
            "--language", language]  # fmt: skip
    assert main(argv) == 0
    ds = datasets.load_from_disk(str(out))
    assert ds["id"] == [f"{p['id']}:{m}" for p in PAIRS for m in ("output", "input")]
    for row in ds:
        pair = Pair.from_row(next(p for p in PAIRS if p["id"] == row["pair_id"]), "t")
        content = prediction_prompt(pair, row["mode"], language)
        assert row["prompt"] == [{"role": "user", "content": content}]
        assert row["verification_info"]["mode"] == row["mode"]
    texts = [RIGHT[i] for i in ds["id"]]
    infos = ds["verification_info"]
    assert reward(ds["prompt"], texts, verification_info=infos) == [1.0] * 6
    wrong = ['</think>\n```json\n{"output": 0}\n```'] * 6
    assert reward(ds["prompt"], wrong, verification_info=infos) == [0.0] * 6


def test_export_rl_jsonl_one_mode(tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "io.jsonl")
    out = tmp_path / "rl.jsonl"
    assert main(["synth", "export", str(pairs), "--format", "rl", "-o", str(out),
                 "--modes", "input"]) == 0  # fmt: skip
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["double-3:input", "sort-1:input", "crux-1:input"]
    assert rows[0]["verification_info"] == {
        "code": PAIRS[0]["code"],
        "entry": "f",
        "mode": "input",
        "input": "n=3",
        "output_repr": "6",
        "policy": "json",
        "seed": 0,
    }
    assert rows[2]["verification_info"]["input"] == "'ab'"


def test_export_rl_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "io.jsonl"
    bad.write_text('{"id": "a", "code": "def f(): pass", "entry": "f", "output": 1}\n')
    out = tmp_path / "rl"
    assert main(["synth", "export", str(bad), "--format", "rl", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "io.jsonl:1: missing key 'input'" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["synth", "export", str(bad), "--format", "grpo", "-o", str(out)]) == 2


def test_rl_rows_of_synthesized_pairs_in_a_pass_rate_band(tmp_path: Path) -> None:
    """The grpo stage's selection: only (pair, mode)s synthesis has traces of, and with a band
    only those whose pass rate lies in it; a band over traces without pass rates is refused."""
    from kodeio.errors import InputError
    from kodeio.files import write_jsonl
    from kodeio.synth.rl_data import export_rl, synthesized

    pairs = write_pairs(tmp_path / "io.jsonl")
    traces = tmp_path / "traces.jsonl"
    rates = {("double-3", "output"): 1.0, ("double-3", "input"): 0.5, ("sort-1", "output"): 0.0}
    write_jsonl(traces, [{"pair_id": p, "mode": m, "pass_rate": r} for (p, m), r in rates.items()])
    assert synthesized(traces) == set(rates)
    band = synthesized(traces, (0.1, 0.6))
    assert band == {("double-3", "input")}
    n, out = export_rl(pairs, tmp_path / "rl.jsonl", only=synthesized(traces))
    assert n == 3 and [r["id"] for r in read_jsonl(out)] == [
        "double-3:output", "double-3:input", "sort-1:output"]  # fmt: skip
    assert export_rl(pairs, tmp_path / "band.jsonl", only=band)[0] == 1
    write_jsonl(traces, [{"pair_id": "double-3", "mode": "output", "status": "failed"}])
    with pytest.raises(InputError, match=r"traces.jsonl:1: no 'pass_rate'.*n_samples > 1"):
        synthesized(traces, (0.1, 0.6))
