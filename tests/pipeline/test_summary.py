"""The end of `kodeio run`: before/after numbers with intervals and item counts, a change
inside the noise called that, and a run that verified almost nothing told what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodeio.eval.report import build_report, write_report
from kodeio.eval.stats import wilson_interval
from kodeio.eval.wiring import EvalWiring
from kodeio.report import collect_evals
from kodeio.synth.traces import compute_stats
from kodeio.synth.wiring import SynthWiring


def rate_report(path: Path, label: str, metric: str, correct: int, n: int) -> None:
    lo, hi = wilson_interval(correct, n)
    write_report(
        path,
        build_report(
            "io", "x", model={"label": label}, data={}, config={}, counts={},
            metrics={metric: 100 * correct / n}, intervals={metric: (100 * lo, 100 * hi)},
            sizes={metric: n},
        ),
    )  # fmt: skip


def test_eval_summary_carries_intervals_counts_and_the_verdict(tmp_path: Path):
    ev = tmp_path / "eval"
    rate_report(ev / "base" / "io" / "report.json", "base", "io-output/pass@1", 3, 16)
    rate_report(ev / "tuned" / "io" / "report.json", "tuned", "io-output/pass@1", 5, 16)
    rate_report(ev / "base" / "mcqa" / "report.json", "base", "mcqa-k/accuracy", 20, 400)
    rate_report(ev / "tuned" / "mcqa" / "report.json", "tuned", "mcqa-k/accuracy", 120, 400)
    counts = EvalWiring().counts(tmp_path)
    assert counts["base"] == {"io-output/pass@1": 18.75, "mcqa-k/accuracy": 5.0}
    assert counts["n"] == {"io-output/pass@1": 16, "mcqa-k/accuracy": 400}
    assert counts["intervals"]["tuned"]["io-output/pass@1"] == pytest.approx(
        [100 * x for x in wilson_interval(5, 16)], abs=1e-5
    )
    assert counts["change"]["io-output/pass@1"].endswith(": no measurable change")
    assert counts["change"]["mcqa-k/accuracy"].endswith(": up")
    lines = EvalWiring().result(counts).splitlines()
    assert lines[0].startswith("io-output/pass@1 (n=16): 18.8 [6.6, 43.0] → 31.2 [")
    assert lines[0].endswith("no measurable change")
    assert lines[1].startswith("mcqa-k/accuracy (n=400): 5.0 [") and lines[1].endswith(": up")
    # run.json stores counts as JSON: they must survive the round trip.
    assert json.loads(json.dumps(counts)) == counts
    # The HTML report gets the same table.
    changes = {c["metric"]: c for c in collect_evals(tmp_path)["changes"]}
    assert changes["mcqa-k/accuracy"]["n"] == 400 and changes["mcqa-k/accuracy"]["tuned"] == 30.0
    assert changes["io-output/pass@1"]["change"] == counts["change"]["io-output/pass@1"]


def trace(i: int, status: str, reasons: list[str]) -> dict:
    turns = [{"verdict": {"correct": r == "match", "reason": r}} for r in reasons]
    return {"id": str(i), "mode": "output", "status": status, "turns": turns, "messages": []}


def test_a_run_that_verified_few_traces_names_why_and_the_teacher_command(tmp_path: Path):
    rows = [trace(0, "verified_first", ["match"])]
    rows += [trace(1 + i, "failed", ["no_answer"]) for i in range(5)]
    rows += [trace(10 + i, "failed", ["no_answer", "truncated"]) for i in range(3)]
    rows += [trace(20, "failed", ["mismatch"])]
    (tmp_path / "synth").mkdir()
    (tmp_path / "synth" / "traces.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    stats = compute_stats(tmp_path / "synth" / "traces.jsonl")
    # The last turn decides: a revision that got cut off counts as truncated.
    assert stats.to_dict()["failure_reasons"] == {"no_answer": 5, "truncated": 3, "mismatch": 1}
    counts = SynthWiring().counts(tmp_path)
    footer = SynthWiring().footer(tmp_path, counts)
    assert "1 of 10" in footer[0] and "no_answer 5, truncated 3, mismatch 1" in footer[0]
    assert footer[-1].strip().startswith("kodeio run -c configs/teacher-api.yaml")
    # A healthy yield gets no advice.
    assert SynthWiring().footer(tmp_path, {**counts, "verified": 5}) == []
