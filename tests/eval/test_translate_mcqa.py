"""Translation (sacrebleu) and MCQA scoring on known strings, end to end with a scripted
model, plus `kodeio eval compare`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from kodeio.cli import main
from kodeio.eval.config import McqaEvalConfig, TranslateEvalConfig
from kodeio.eval.mcqa import parse_letter
from kodeio.eval.mcqa import run_stage as run_mcqa
from kodeio.eval.translate import answer_text, corpus_scores, direction_of
from kodeio.eval.translate import run_stage as run_translate
from kodeio.llm.base import GenRequest
from kodeio.llm.scripted import ScriptedBackend

PAIRS = [
    {
        "ko": "오늘 날씨가 정말 좋네요.",
        "en": "The weather is really nice today.",
        "source": "a.xlsx:Sheet1:2",
    },
    {
        "ko": "회의는 세 시에 시작합니다.",
        "en": "The meeting starts at three o'clock.",
        "source": "a.xlsx:Sheet1:3",
    },
    {
        "ko": "이 약은 하루에 두 번 드세요.",
        "en": "Take this medicine twice a day.",
        "source": "a.xlsx:Sheet1:4",
    },
]


# ---- sacrebleu on known strings -------------------------------------------------------------


def test_identical_and_disjoint_corpora():
    refs = ["The weather is really nice today.", "Take this medicine twice a day."]
    perfect, _, _ = corpus_scores(refs, refs, "en")
    assert perfect == {"chrF": pytest.approx(100.0), "BLEU": pytest.approx(100.0)}
    nothing, _, _ = corpus_scores(["zzz qqq", "xxx"], refs, "en")
    assert nothing["BLEU"] == pytest.approx(0.0) and nothing["chrF"] < 5


def test_known_scores_are_pinned():
    """BLEU worked out by hand; chrF as sacrebleu 2.6 computes it (chrF2, char 6-grams)."""
    scores, _, sigs = corpus_scores(["The cat sat on the mat."], ["The cat is on the mat."], "en")
    # 13a tokens (7 each): n-gram precisions 6/7, 4/6, 2/5, 1/4; equal lengths, BP = 1.
    assert scores["BLEU"] == pytest.approx(100 * (6 / 7 * 4 / 6 * 2 / 5 * 1 / 4) ** 0.25)
    assert scores["chrF"] == pytest.approx(67.1727, abs=1e-3)
    assert "tok:13a" in sigs["BLEU"]
    ko, _, sigs = corpus_scores(["오늘 날씨가 좋네요."], ["오늘 날씨가 정말 좋네요."], "ko")
    # char tokens 9 vs 11: precisions 9/9, 7/8, 5/7, 3/6; BP = exp(1 - 11/9).
    bp = math.exp(1 - 11 / 9)
    assert ko["BLEU"] == pytest.approx(100 * bp * (7 / 8 * 5 / 7 * 3 / 6) ** 0.25)
    assert ko["chrF"] == pytest.approx(45.1068, abs=1e-3)
    assert "tok:char" in sigs["BLEU"]


def test_direction_and_answer_text():
    assert direction_of("The weather is nice.") == "ko-en"
    assert direction_of("날씨가 좋네요 (weather).") == "en-ko"
    assert answer_text("reasoning here\n</think>\n\n Hello. ") == ("Hello.", False)
    assert answer_text("no think block") == ("no think block", True)


def translator(request: GenRequest, sample: int) -> str:
    """Right for the first two pairs, a wrong sentence for the third, both directions."""
    prompt = request.messages[-1]["content"]
    for pair in PAIRS[:2]:
        if pair["ko"] in prompt:
            return f"Translate it.\n</think>\n\n{pair['en']}"
        if pair["en"] in prompt:
            return f"번역하자.\n</think>\n\n{pair['ko']}"
    return (
        "Hmm.\n</think>\n\nI do not know."
        if PAIRS[2]["ko"] in prompt
        else "음.\n</think>\n\n모르겠어요."
    )


def test_translate_pairs_end_to_end(tmp_path):
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in PAIRS), "utf-8")
    cfg = TranslateEvalConfig(data=data, output_dir=tmp_path / "t", backend="scripted", name="s")
    report = json.loads(run_translate(cfg, backend=ScriptedBackend(translator)).read_text("utf-8"))
    m = report["metrics"]
    expected_en, spans_en, _ = corpus_scores(
        [PAIRS[0]["en"], PAIRS[1]["en"], "I do not know."], [p["en"] for p in PAIRS], "en"
    )
    expected_ko, _, _ = corpus_scores(
        [PAIRS[0]["ko"], PAIRS[1]["ko"], "모르겠어요."], [p["ko"] for p in PAIRS], "ko"
    )
    assert m["translate-ko-en/chrF"] == pytest.approx(expected_en["chrF"])
    assert m["translate-ko-en/BLEU"] == pytest.approx(expected_en["BLEU"])
    assert m["translate-en-ko/chrF"] == pytest.approx(expected_ko["chrF"])
    assert 40 < m["translate-ko-en/chrF"] < 100
    assert report["counts"]["ko-en"]["sentences"] == 3
    # Every metric carries its bootstrap interval and the sentences it was measured on.
    assert report["intervals"]["translate-ko-en/chrF"] == pytest.approx(list(spans_en["chrF"]))
    assert report["n"] == {
        f"translate-{d}/{k}": 3 for d in ("ko-en", "en-ko") for k in ("chrF", "BLEU")
    }
    rows = [json.loads(x) for x in (tmp_path / "t" / "items.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) == 6 and {r["direction"] for r in rows} == {"ko-en", "en-ko"}


def test_translate_mix_eval_split(tmp_path):
    from datasets import Dataset, DatasetDict

    def conv(user: str, answer: str) -> list[dict[str, str]]:
        return [
            {"role": "user", "content": user},
            {"role": "assistant", "content": f"<think>\n\n</think>\n\n{answer}"},
        ]

    rows = {
        "id": ["p:1", "p:2", "m:1"],
        "source": ["aihub", "aihub", "medical"],
        "messages": [
            conv(f"다음 한국어 문장을 영어로 번역해 주세요.\n\n{PAIRS[0]['ko']}", PAIRS[0]["en"]),
            conv(f"English: {PAIRS[1]['en']}\n\nKorean translation:", PAIRS[1]["ko"]),
            conv("두통의 원인은?", "여러 가지입니다."),
        ],
        "num_tokens": [10, 10, 10],
    }
    ds = DatasetDict({"train": Dataset.from_dict(rows), "eval": Dataset.from_dict(rows)})
    ds.save_to_disk(str(tmp_path / "mix"))
    cfg = TranslateEvalConfig(
        data=tmp_path / "mix", sources=["aihub"], output_dir=tmp_path / "t", backend="scripted"
    )
    report = json.loads(run_translate(cfg, backend=ScriptedBackend(translator)).read_text("utf-8"))
    assert report["metrics"]["translate-ko-en/chrF"] == pytest.approx(100.0)
    assert report["metrics"]["translate-en-ko/chrF"] == pytest.approx(100.0)
    assert report["counts"]["ko-en"]["sentences"] == 1


def test_translate_mix_needs_source_names(tmp_path, capsys):
    from datasets import Dataset, DatasetDict

    rows = {
        "id": ["x"],
        "source": ["aihub"],
        "messages": [[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]],
    }
    DatasetDict({"eval": Dataset.from_dict(rows)}).save_to_disk(str(tmp_path / "mix"))
    rc = main(
        [
            "eval",
            "translate",
            "--data",
            str(tmp_path / "mix"),
            "--backend",
            "scripted",
            "-o",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1 and "--source" in err and "aihub" in err


# ---- MCQA ----------------------------------------------------------------------------------

LETTER_CASES = [
    ("정답: B", "B"),
    ("정답은 (C)입니다.", "C"),
    ("따라서 정답은 D", "D"),
    ("**정답: A. 고혈압**", "A"),
    ("The answer is E.", "E"),
    ("Answer: B", "B"),
    ("I will answer a question.", None),
    ("최종 답: \\boxed{C}", "C"),
    ("여러 보기를 검토했다.\n\nB", "B"),
    ("검토 결과\n(D)", "D"),
    ("C. 당뇨병", "C"),
    ("정답: 3번", "C"),
    ("정답은 ②", "B"),
    ("처음엔 A라고 생각했지만 정답: D", "D"),
    ("정답: A\n\n정답: E", "E"),
    ("모르겠습니다.", None),
    ("Answer: F", None),
    ("정답: 7번", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "letter"), LETTER_CASES)
def test_parse_letter(text, letter):
    assert parse_letter(text, "ABCDE") == letter


def test_letter_is_read_after_think_only(tmp_path):
    rows = [
        {"question": "고혈압의 1차 치료제는?", "A": "이뇨제", "B": "항생제", "C": "진통제", "D": "항히스타민제", "E": "", "answer": 1},
        {"question": "당뇨병 진단 기준 HbA1c는?", "A": "5.0%", "B": "5.7%", "C": "6.5%", "D": "8.0%", "E": "10%", "answer": "C"},
        {"question": "빈혈의 흔한 원인은?", "A": "철 결핍", "B": "고지혈증", "C": "골절", "D": "근시", "E": "탈모", "answer": "A"},
    ]  # fmt: skip
    data = tmp_path / "mcqa.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")

    def model(request: GenRequest, sample: int) -> str:
        prompt = request.messages[-1]["content"]
        if "고혈압" in prompt:
            assert "E." not in prompt  # an empty choice is not offered
            return "정답: C 일 수도 있지만 아니다.\n</think>\n\n정답: A"  # right after </think>
        if "당뇨병" in prompt:
            return "정답: C 라고 생각한다\n</think>\n\n잘 모르겠습니다."  # letter only inside think
        return "정답: A"  # no </think>: unterminated, still read

    cfg = McqaEvalConfig(data=data, output_dir=tmp_path / "m", backend="scripted", name="s")
    report = json.loads(run_mcqa(cfg, backend=ScriptedBackend(model)).read_text("utf-8"))
    assert report["metrics"]["mcqa-mcqa/accuracy"] == pytest.approx(200 / 3)
    assert report["counts"]["unparsed"] == 1
    assert report["counts"]["unterminated"] == 1
    lo, hi = report["intervals"]["mcqa-mcqa/accuracy"]
    assert lo < 200 / 3 < hi


def test_mcqa_bad_answer_is_one_line_error(tmp_path, capsys):
    data = tmp_path / "bad.jsonl"
    data.write_text(
        json.dumps({"question": "q", "A": "x", "B": "y", "answer": "Z"}) + "\n", "utf-8"
    )
    rc = main(
        ["eval", "mcqa", "--data", str(data), "--backend", "scripted", "-o", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert rc == 1 and f"{data}:1: key 'answer' is 'Z'" in err


# ---- compare -------------------------------------------------------------------------------


def write_report(path: Path, label: str, metrics: dict[str, float]) -> None:
    from kodeio.eval.report import build_report
    from kodeio.eval.report import write_report as write

    write(path, build_report("io", "x", model={"label": label}, data={}, config={}, counts={},
                             metrics=metrics, intervals={k: (v - 5, v + 5) for k, v in metrics.items()}))  # fmt: skip


def test_compare_table_and_chart(tmp_path, capsys):
    base, tuned = tmp_path / "base" / "eval", tmp_path / "tuned" / "eval"
    write_report(
        base / "io-crux" / "report.json",
        "R1-base",
        {"io-output/pass@1": 20.0, "io-input/pass@1": 10.0},
    )
    write_report(base / "mcqa-k" / "report.json", "R1-base", {"mcqa-k/accuracy": 40.0})
    write_report(
        tuned / "io-crux" / "report.json",
        "R1-ko",
        {"io-output/pass@1": 30.0, "io-input/pass@1": 5.0},
    )
    write_report(tuned / "translate" / "report.json", "R1-ko", {"translate-ko-en/chrF": 50.0})
    png = tmp_path / "cmp.png"
    rc = main(["eval", "compare", str(tmp_path / "base"), str(tmp_path / "tuned"), "-o", str(png)])
    assert rc == 0
    err = capsys.readouterr().err
    assert "R1-base" in err and "R1-ko" in err
    # +10 with both sides +-5 is a change; -5 with the same intervals is inside the noise.
    assert "+10.00 [+2.9, +17.1]: up" in err
    assert "-5.00 [-12.1, +2.1]: no measurable change" in err
    for metric in ("io-output/pass@1", "mcqa-k/accuracy", "translate-ko-en/chrF"):
        assert metric in err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_compare_missing_run(tmp_path, capsys):
    rc = main(["eval", "compare", str(tmp_path / "nope"), str(tmp_path / "nope2")])
    assert rc == 1 and "no such run directory" in capsys.readouterr().err
