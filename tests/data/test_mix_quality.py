"""`kodeio data mix` on traces exported with difficulty bands and language marks: rows marked
language_mismatch stay out unless kept, and the card shows bands and mismatch counts."""

from __future__ import annotations

import json
from pathlib import Path

from kodeio.data.card import render_card
from kodeio.data.mix import MixConfig, build_mix

BANDS = ["easy", "medium", "hard", "unsolved", "easy", "easy", "hard", "medium"]
MISMATCH = {5, 6}  # an easy and a hard row drifted out of Korean


def quality_rows(trace_row) -> list[dict]:
    rows = []
    for i, band in enumerate(BANDS):
        row = trace_row(i)
        row["pass_rate"], row["band"] = 0.5, band
        row["language"] = {"hangul_share": 0.1 if i in MISMATCH else 0.9, "han_chars": 0,
                           "mismatch": i in MISMATCH}  # fmt: skip
        rows.append(row)
    return rows


def mix(tmp_path, path, card: dict | None = None, **source) -> MixConfig:
    return MixConfig.model_validate(
        {
            "sources": [
                {"name": "codeio", "kind": "traces", "path": str(path), "ratio": 1, **source}
            ],  # fmt: skip
            "output": str(tmp_path / "mix"),
            "split": {"eval_fraction": 0},
            "card": card or {},
        }
    )


def test_mismatch_left_out_and_bands_counted(tmp_path, trace_row, write_jsonl):
    path = write_jsonl(tmp_path / "sft.jsonl", quality_rows(trace_row))
    result = build_mix(mix(tmp_path, path))
    ids = sorted(s.id for s in result.splits["train"])
    assert ids == [f"codeio:fn{i}" for i in (0, 1, 2, 3, 4, 7)]
    report = result.reports[0]
    assert (report.read, report.language_mismatch, report.unique) == (8, 2, 6)
    assert result.stats["quality"] == {
        "difficulty": {"codeio": {"easy": 2, "medium": 2, "hard": 1, "unsolved": 1}},
        "language_mismatch": {"codeio": {"rows": 2, "kept": False}},
    }
    card = render_card(result.stats, {}, ["train", "eval"])
    assert "## Difficulty" in card and "| codeio | 2 | 2 | 1 | 1 |" in card
    assert "## Language consistency (Korean)" in card and "| codeio | 2 | left out |" in card


def test_keep_language_mismatch(tmp_path, trace_row, write_jsonl):
    path = write_jsonl(tmp_path / "sft.jsonl", quality_rows(trace_row))
    result = build_mix(mix(tmp_path, path, keep_language_mismatch=True))
    assert len(result.splits["train"]) == 8
    assert result.stats["quality"]["difficulty"]["codeio"] == {
        "easy": 3, "medium": 2, "hard": 2, "unsolved": 1,
    }  # fmt: skip
    assert result.stats["quality"]["language_mismatch"]["codeio"] == {"rows": 2, "kept": True}
    assert "| codeio | 2 | kept |" in render_card(result.stats, {}, ["train", "eval"])


def test_plain_traces_have_no_quality_sections(tmp_path, trace_row, write_jsonl):
    path = write_jsonl(tmp_path / "sft.jsonl", [trace_row(i) for i in range(4)])
    result = build_mix(mix(tmp_path, path))
    assert "quality" not in result.stats
    card = render_card(result.stats, {}, ["train", "eval"])
    assert "## Difficulty" not in card and "Language consistency" not in card


def test_card_shows_yield_per_turn_of_the_traces_file(tmp_path, trace_row, write_jsonl):
    def trace(i: int, status: str, turns: int) -> dict:
        ok = [False] * (turns - 1) + [status != "failed"]
        return {"id": f"t{i}", "mode": "output", "status": status, "messages": [],
                "turns": [{"verdict": {"correct": c}} for c in ok]}  # fmt: skip

    traces = write_jsonl(
        tmp_path / "traces.jsonl",
        [
            trace(0, "verified_first", 1),
            trace(1, "verified_first", 1),
            trace(2, "verified_revised", 2),
            trace(3, "failed", 2),
        ],  # fmt: skip
    )
    path = write_jsonl(tmp_path / "sft.jsonl", [trace_row(i) for i in range(3)])
    result = build_mix(mix(tmp_path, path, traces_file=str(traces)))
    assert result.stats["quality"] == {
        "yield_by_turn": {"codeio": {"traces": 4, "verified_by_turn": {"1": 2, "2": 1}}}
    }
    card = render_card(result.stats, {}, ["train", "eval"])
    assert "## Verified yield per turn (codeio)" in card
    assert "| 1 | 2 | 50.0% |" in card and "| 2 | 1 | 75.0% |" in card
    assert "| all | 3 of 4 traces | |" in card


def test_card_counts_what_cleaning_removed(tmp_path, trace_row, write_jsonl, capsys):
    removed = write_jsonl(
        tmp_path / "CLEAN.removed.jsonl",
        [
            {"seed_id": "a", "reason": "contaminated", "method": "ngram",
             "matched": {"source": "cruxeval", "id": "sample_3"}, "score": 0.9},
            {"seed_id": "b", "reason": "contaminated", "method": "ngram",
             "matched": {"source": "cruxeval", "id": "sample_8"}, "score": 1.0},
            {"seed_id": "c", "reason": "contaminated", "method": "exact",
             "matched": {"source": "lcb", "id": "7"}, "score": 1.0},
            {"seed_id": "d", "reason": "duplicate", "method": "minhash",
             "matched": {"source": "seeds", "id": "a"}, "score": 0.91},
        ],
    )  # fmt: skip
    path = write_jsonl(tmp_path / "sft.jsonl", [trace_row(i) for i in range(3)])
    cfg = mix(tmp_path, path, card={"removed": [str(removed)]})
    result = build_mix(cfg)
    assert result.stats["quality"]["removed"] == [
        {"reason": "contaminated", "benchmark": "cruxeval", "method": "ngram", "seeds": 2},
        {"reason": "contaminated", "benchmark": "lcb", "method": "exact", "seeds": 1},
        {"reason": "duplicate", "benchmark": "seeds", "method": "minhash", "seeds": 1},
    ]
    card = render_card(result.stats, {}, ["train", "eval"])
    assert "## Removed by cleaning" in card and "| contaminated | cruxeval | ngram | 2 |" in card
    # A row without the schema's keys is one line naming file and line.
    write_jsonl(removed, [{"seed_id": "a", "reason": "duplicate"}])
    from kodeio.cli import main

    cfg_path = tmp_path / "mix.yaml"
    cfg_path.write_text(json.dumps(cfg.model_dump(mode="json")), encoding="utf-8")
    assert main(["data", "mix", "-c", str(cfg_path)]) != 0
    err = capsys.readouterr().err
    assert "CLEAN.removed.jsonl:1" in err and "method" in err and "Traceback" not in err


def test_kodeio_run_wires_traces_file_and_cleaning_removals(tmp_path, trace_row, write_jsonl):
    from kodeio.data.wiring import DataWiring
    from kodeio.pipeline import load_recipe
    from kodeio.wiring import Recipe

    run = tmp_path / "run"
    for stage in ("io", "synth", "data"):
        (run / stage).mkdir(parents=True)
    root = Path(__file__).resolve().parents[2]
    tree = load_recipe(root / "configs" / "quickstart-cpu.yaml", [f"run_dir={run}"])
    write_jsonl(run / "synth" / "sft.jsonl", [trace_row(i) for i in range(3)])
    write_jsonl(run / "synth" / "traces.jsonl", [])
    write_jsonl(run / "data" / "pairs.jsonl", [{"ko": "안녕", "en": "hi"}])
    mix_cfg = DataWiring().configs(Recipe(tree))["data_mix"]
    codeio = next(s for s in mix_cfg.sources if s.name == "codeio")
    assert codeio.traces_file == run / "synth" / "traces.jsonl"
    assert mix_cfg.card.removed == []  # no clean step ran
    removed = write_jsonl(run / "io" / "seeds.clean.removed.jsonl", [])
    assert DataWiring().configs(Recipe(tree))["data_mix"].card.removed == [removed]
    # Validation (not live) reads no earlier stage's output.
    assert DataWiring().configs(Recipe(tree, live=False))["data_mix"].card.removed == []
