"""Difficulty from pass rate and language consistency of Korean traces, with a scripted model.

The model's behaviour is fixed per sample, so every pass rate, band and Hangul share below
is known in advance; verification is real (the sandbox runs the code).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodeio.cli import main
from kodeio.errors import ConfigError, InputError
from kodeio.files import read_jsonl
from kodeio.llm.base import GenRequest
from kodeio.llm.scripted import ScriptedBackend
from kodeio.synth.config import SynthConfig
from kodeio.synth.difficulty import DifficultyConfig, parse_range
from kodeio.synth.language import LanguageCheckConfig, language_field, measure, reasoning_text
from kodeio.synth.pipeline import SynthRun
from kodeio.synth.traces import compute_stats, export, export_rows
from kodeio.testing.known_pairs import PAIRS, json_answer, prompt_of, write_pairs

KOREAN = "n은 3이다"  # both words carry Hangul
ENGLISH = "n is 3, so 3 * 2 = 6."
MIXED = "먼저 n을 본다. Then we multiply by two."  # 3 Korean words of 8
CHINESE_DRIFT = "n은 3이다. 所以结果是六。"  # 2 Korean words, 6 Han characters (a word each)
# Korean reasoning about code in the style of the project brief's worked example: Latin
# identifiers carry the Korean particles. 16 of its 52 letters are Hangul (0.31 per letter,
# a mismatch at 0.5); all 7 of its words with letters are Korean.
KOREAN_ABOUT_CODE = (
    "factorial(2)을 호출한다. 2 != 0이므로 2 * factorial(1)을 계산한다. "
    "factorial(1)은 1 * factorial(0)이다."
)


def test_hangul_share_of_hand_written_reasoning() -> None:
    assert measure([KOREAN]) == (1.0, 0)
    assert measure([ENGLISH]) == (0.0, 0)
    assert measure([MIXED]) == (3 / 8, 0)
    assert measure([CHINESE_DRIFT]) == (2 / 8, 6)
    # Quoted code is not prose: `sorted(xs)` and a fenced block do not count as English.
    assert measure(["`sorted(xs)`를 호출한다\n```python\nprint(xs)\n```\n끝"]) == (1.0, 0)
    # Turns add up: 2 + 0 Korean words of 2 + 2.
    assert measure([KOREAN, "no Korean"]) == (2 / 4, 0)
    assert measure([KOREAN_ABOUT_CODE]) == (1.0, 0)
    assert reasoning_text("<think>\n생각\n</think>\n\n답: answer") == "\n생각\n"
    assert reasoning_text("never closed") == "never closed"


def test_mismatch_threshold_han_limit_and_failed_traces() -> None:
    check = LanguageCheckConfig(min_hangul_share=0.5)
    done = KOREAN + "\n</think>\n\nthe answer is English and does not count"
    assert language_field([done], True, check) == {
        "hangul_share": 1.0,
        "han_chars": 0,
        "mismatch": False,
    }
    assert language_field([MIXED], True, check)["mismatch"] is True
    assert language_field([MIXED], False, check)["mismatch"] is False  # only verified ones
    strict = LanguageCheckConfig(min_hangul_share=0.2, max_han_chars=5)
    assert language_field([CHINESE_DRIFT], True, strict)["mismatch"] is True
    lax = LanguageCheckConfig(min_hangul_share=0.2)
    assert language_field([CHINESE_DRIFT], True, lax)["mismatch"] is False


def test_bands_and_ranges() -> None:
    bands = DifficultyConfig()
    got = [bands.band(r) for r in (0.0, 0.2, 0.25, 0.5, 0.75, 1.0)]
    assert got == ["unsolved", "hard", "medium", "medium", "easy", "easy"]
    assert DifficultyConfig(easy_from=1.0, medium_from=0.5).band(0.75) == "medium"
    with pytest.raises(ValueError, match="medium_from"):
        DifficultyConfig(easy_from=0.3, medium_from=0.6)
    assert parse_range("0.1:0.6") == (0.1, 0.6)
    assert parse_range(":0.5") == (0.0, 0.5) and parse_range("0.5:") == (0.5, 1.0)
    for bad in ("0.6", "0.7:0.2", "a:b", "0:1.5"):
        with pytest.raises(ConfigError, match="--pass-rate"):
            parse_range(bad)


# -- pass rate through a run -------------------------------------------------------------

# Of 4 samples, how many answer right: double 4 (easy), sort 1 (hard), crux 0 (unsolved).
RIGHT = {"return n * 2": ("6", 4), "sorted(xs)": ("[1, 2, 3]", 1), "s.upper()": ("('AB', 2)", 0)}


def graded(request: GenRequest, sample: int) -> str:
    prompt = prompt_of(request)
    for marker, (value, right) in RIGHT.items():
        if marker in prompt:
            return json_answer("output", value if sample < right else "0")
    return "no idea\n</think>\n\nnothing"


def categorised_pairs(path: Path) -> Path:
    cats = {"double": "arith", "sort": "lists", "crux": None}
    return write_pairs(path, [{**p, "category": cats[p["seed_id"]]} for p in PAIRS])


def run_graded(tmp_path: Path, **kw: object) -> Path:
    tmp_path.mkdir(exist_ok=True)
    out = tmp_path / "traces.jsonl"
    cfg = SynthConfig.model_validate(
        {
            "pairs": str(categorised_pairs(tmp_path / "io.jsonl")),
            "output": str(out),
            "backend": "scripted",
            "modes": ["output"],
            "revisions": 0,
            "sampling": {"n_samples": 4},
            **kw,
        }  # fmt: skip
    )
    SynthRun(cfg, backend=ScriptedBackend(graded), progress=False).run()
    return out


def test_pass_rate_and_band_on_every_row(tmp_path: Path) -> None:
    rows = read_jsonl(run_graded(tmp_path))
    got = {(r["pair_id"], r["sample"]): (r["pass_rate"], r["band"], r["category"]) for r in rows}
    assert got == {
        **{("double-3", i): (1.0, "easy", "arith") for i in range(4)},
        **{("sort-1", i): (0.25, "medium", "lists") for i in range(4)},
        **{("crux-1", i): (0.0, "unsolved", None) for i in range(4)},
    }
    # Band limits come from the config.
    rows = read_jsonl(run_graded(tmp_path / "b", difficulty={"medium_from": 0.5}))
    assert {r["pair_id"]: r["band"] for r in rows}["sort-1"] == "hard"


def test_rerun_keeps_the_bytes(tmp_path: Path) -> None:
    out = run_graded(tmp_path)
    before = out.read_bytes()
    run_graded(tmp_path)  # a finished output is resumed: nothing new, pass rates recomputed
    assert out.read_bytes() == before


def test_stats_histogram_by_mode_and_category(tmp_path: Path) -> None:
    st = compute_stats(run_graded(tmp_path)).to_dict()
    assert st["difficulty"] == {
        "pass_rate_by_mode": {"output": {"0": 1, "0.25": 1, "1": 1}},
        "pass_rate_by_category": {"(none)": {"0": 1}, "arith": {"1": 1}, "lists": {"0.25": 1}},
        "band_by_mode": {"output": {"easy": 1, "medium": 1, "hard": 0, "unsolved": 1}},
    }
    assert "language" not in st


def test_export_pass_rate_band(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_graded(tmp_path)
    kept = list(export_rows(out, pass_rate=(0.1, 0.6)))
    assert [r["id"].split("#")[0] for r in kept] and {r["pass_rate"] for r in kept} == {0.25}
    assert len(kept) == 1  # sort-1 has one verified sample of four
    assert kept[0]["band"] == "medium"
    assert len(list(export_rows(out))) == 5
    sft = tmp_path / "easy.jsonl"
    argv = ["synth", "export", str(out), "-o", str(sft), "--pass-rate", "0.9:1"]
    assert main(argv) == 0
    assert [r["pass_rate"] for r in read_jsonl(sft)] == [1.0] * 4
    capsys.readouterr()
    assert main(["synth", "export", str(out), "-o", str(sft), "--pass-rate", "0.9"]) != 0
    err = capsys.readouterr().err
    assert "--pass-rate: expected LO:HI" in err and "Traceback" not in err


def test_pass_rate_filter_needs_sampled_traces(pairs_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    cfg = SynthConfig.model_validate(
        {"pairs": str(pairs_file), "output": str(out), "backend": "scripted", "modes": ["output"]}
    )
    SynthRun(cfg, backend=ScriptedBackend(graded), progress=False).run()
    rows = read_jsonl(out)
    # One sample, English: the rows are as before, without any of the new fields.
    assert not {"pass_rate", "band", "category", "language"} & {k for r in rows for k in r}
    with pytest.raises(InputError, match=r"t\.jsonl:1: no 'pass_rate'.*n_samples > 1"):
        list(export_rows(out, pass_rate=(0.0, 1.0)))


# -- language through a run ---------------------------------------------------------------

# Four samples of one pair, all right: Korean, English, mixed and Chinese-drifting thought.
THOUGHTS = [KOREAN, ENGLISH, MIXED, CHINESE_DRIFT]


def korean_model(request: GenRequest, sample: int) -> str:
    return json_answer("output", "6", THOUGHTS[sample])


def run_korean(tmp_path: Path, **kw: object) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "ko.jsonl"
    cfg = SynthConfig.model_validate(
        {
            "pairs": str(write_pairs(tmp_path / "io.jsonl", PAIRS[:1])),
            "output": str(out),
            "backend": "scripted",
            "modes": ["output"],
            "reasoning_language": "ko",
            "sampling": {"n_samples": 4},
            **kw,
        }  # fmt: skip
    )
    SynthRun(cfg, backend=ScriptedBackend(korean_model), progress=False).run()
    return out


def test_korean_traces_record_language(tmp_path: Path) -> None:
    rows = read_jsonl(run_korean(tmp_path))
    assert [r["status"] for r in rows] == ["verified_first"] * 4
    assert [r["language"] for r in rows] == [
        {"hangul_share": 1.0, "han_chars": 0, "mismatch": False},
        {"hangul_share": 0.0, "han_chars": 0, "mismatch": True},
        {"hangul_share": 0.375, "han_chars": 0, "mismatch": True},
        {"hangul_share": 0.25, "han_chars": 6, "mismatch": True},
    ]
    # Language does not change correctness: the pass rate counts all four.
    assert {r["pass_rate"] for r in rows} == {1.0}
    rows = read_jsonl(run_korean(tmp_path / "lax", language_check={"min_hangul_share": 0.25}))
    assert [r["language"]["mismatch"] for r in rows] == [False, True, False, False]


def test_rerun_with_other_limits_rejudges_without_generating(tmp_path: Path) -> None:
    out = run_korean(tmp_path)
    other = {"min_hangul_share": 0.2, "max_han_chars": 0}
    cfg = SynthConfig.model_validate(
        {"pairs": str(tmp_path / "io.jsonl"), "output": str(out), "backend": "scripted",
         "modes": ["output"], "reasoning_language": "ko", "sampling": {"n_samples": 4},
         "language_check": other, "difficulty": {"easy_from": 1.0, "medium_from": 1.0}}
    )  # fmt: skip
    backend = ScriptedBackend(korean_model)
    stats = SynthRun(cfg, backend=backend, progress=False).run()
    assert stats.generated_requests == 0 and backend.requests_seen == []
    rows = read_jsonl(out)
    # MIXED (0.375) passes 0.2 now; CHINESE_DRIFT (0.25) fails on its Han characters.
    assert [r["language"]["mismatch"] for r in rows] == [False, True, False, True]
    assert {r["band"] for r in rows} == {"easy"}


def test_mismatch_left_out_of_export_unless_kept(tmp_path: Path) -> None:
    out = run_korean(tmp_path)
    kept = list(export_rows(out))
    assert len(kept) == 1 and kept[0]["language"]["hangul_share"] == 1.0
    assert "n은 3이다" in kept[0]["messages"][-1]["content"]
    assert len(list(export_rows(out, keep_language_mismatch=True))) == 4
    sft = tmp_path / "all.jsonl"
    assert main(["synth", "export", str(out), "-o", str(sft), "--keep-language-mismatch"]) == 0
    assert [r["language"]["mismatch"] for r in read_jsonl(sft)] == [False, True, True, True]


def test_language_stats_and_printed_tables(tmp_path: Path) -> None:
    out = run_korean(tmp_path)
    language = compute_stats(out).to_dict()["language"]
    assert language["measured"] == 4 and language["with_han"] == 1
    assert language["language_mismatch"] == 3
    shares = {k: v for k, v in language["hangul_share"].items() if v}
    assert shares == {"0.0-0.1": 1, "0.2-0.3": 1, "0.3-0.4": 1, "0.9-1.0": 1}
    from kodeio.progress import console

    with console.capture() as captured:
        assert main(["synth", "stats", str(out)]) == 0
    text = captured.get()
    assert "Hangul share" in text and "3 verified but language_mismatch" in text
    assert "bands output: easy 1, medium 0, hard 0, unsolved 0" in text
    assert "seed category" in text and "(none)" in text


def test_dataset_export_has_a_card(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    out = run_graded(tmp_path)
    n, path = export(out, tmp_path / "ds")
    card = (path / "README.md").read_text(encoding="utf-8")
    assert n == 5
    assert "| output | 1 | 1 | 0 | 1 |" in card  # easy, medium, hard, unsolved
    assert "| lists | 0 | 1 | 0 |" in card  # pass 0, 0.25, 1
    assert "| 1 | 5 | 41.7% |" in card  # 5 of 12 traces verified at the first turn
    import datasets

    ds = datasets.load_from_disk(str(path))
    assert sorted(ds["pass_rate"]) == [0.25, 1.0, 1.0, 1.0, 1.0]


def test_stats_json_unchanged_without_the_features(pairs_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    cfg = SynthConfig.model_validate(
        {"pairs": str(pairs_file), "output": str(out), "backend": "scripted"}
    )
    SynthRun(cfg, backend=ScriptedBackend(graded), progress=False).run()
    assert set(compute_stats(out).to_dict()) == {
        "traces", "verified", "yield", "by_status", "failure_reasons", "accuracy_by_turn",
        "yield_by_mode", "tokens",
    }  # fmt: skip
    assert json.loads(json.dumps(compute_stats(out).to_dict()))["traces"] == 6


def test_run_json_counts_carry_bands_and_mismatches(tmp_path: Path) -> None:
    from kodeio.synth.wiring import SynthWiring

    out = run_korean(tmp_path / "run" / "synth")
    out.rename(out.with_name("traces.jsonl"))
    export(out.with_name("traces.jsonl"), out.with_name("sft.jsonl"))
    counts = SynthWiring().counts(tmp_path / "run")
    assert counts["sft_rows"] == 1 and counts["language_mismatch"] == 3
    assert counts["bands"] == {"output": {"easy": 1, "medium": 0, "hard": 0, "unsolved": 0}}
