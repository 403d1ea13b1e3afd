"""`kodeio data hf`: a KorMedMCQA-shaped local dataset and the other layouts, offline."""

from __future__ import annotations

import json

import pytest

from kodeio.cli import main
from kodeio.data.hf import HfConfig, HfDatasetSpec, run_stage
from kodeio.errors import InputError


@pytest.fixture()
def kormedmcqa_dir(tmp_path, write_jsonl):
    """KorMedMCQA's layout: integer answers 1-5, `cot` on some rows, extra columns."""
    root = tmp_path / "KorMedMCQA"
    root.mkdir()
    rows = [
        {
            "subject": "doctor",
            "year": 2023,
            "question": "비타민 C 결핍 질환은?",
            "A": "구루병",
            "B": "각기병",
            "C": "괴혈병",
            "D": "펠라그라",
            "E": "야맹증",
            "answer": 3,
            "cot": "콜라겐 합성 장애",
        },
        {
            "subject": "nurse",
            "year": 2023,
            "question": "정상 호흡수는?",
            "A": "4~8",
            "B": "12~20",
            "C": "30~40",
            "D": "40~60",
            "E": "60 이상",
            "answer": 2,
            "cot": "",
        },
        {
            "subject": "nurse",
            "year": 2023,
            "question": "답이 범위 밖",
            "A": "a",
            "B": "b",
            "C": "c",
            "D": "d",
            "E": "e",
            "answer": 9,
            "cot": "",
        },
    ]
    write_jsonl(root / "train.jsonl", rows)
    write_jsonl(root / "test.jsonl", rows[:1])
    return root


def test_kormedmcqa_layout_from_a_local_dataset_dir(kormedmcqa_dir, tmp_path):
    out = run_stage(
        HfConfig(
            dataset=HfDatasetSpec(path=str(kormedmcqa_dir), layout="mcqa"),
            output=tmp_path / "m.jsonl",
        )
    )
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2  # the out-of-range answer is skipped
    assert rows[0]["id"] == "KorMedMCQA:train:0"
    first = rows[0]["messages"]
    assert "C. 괴혈병" in first[0]["content"]
    assert first[1]["content"] == "<think>\n콜라겐 합성 장애\n</think>\n\n정답: C. 괴혈병"
    assert rows[1]["messages"][1]["content"] == "<think>\n\n</think>\n\n정답: B. 12~20"
    test_split = run_stage(
        HfConfig(
            dataset=HfDatasetSpec(path=str(kormedmcqa_dir), layout="mcqa", split="test"),
            output=tmp_path / "t.jsonl",
        )
    )
    assert len(test_split.read_text().splitlines()) == 1


def test_qa_layout_with_column_mapping_and_prompt_style(tmp_path, write_jsonl):
    path = write_jsonl(
        tmp_path / "med_o1.jsonl",
        [
            {
                "Question": "고열의 첫 처치는?",
                "Complex_CoT": "원인을 찾기 전 해열",
                "Response": "해열제와 수분 보충",
            }
        ],
    )
    spec = HfDatasetSpec(
        path=str(path),
        layout="qa",
        columns={"question": "Question", "cot": "Complex_CoT", "answer": "Response"},
    )
    out = run_stage(HfConfig(dataset=spec, output=tmp_path / "qa.jsonl"))
    messages = json.loads(out.read_text(encoding="utf-8"))["messages"]
    assert "### Question:\n고열의 첫 처치는?" in messages[0]["content"]
    assert messages[1]["content"] == "<think>\n원인을 찾기 전 해열\n</think>\n\n해열제와 수분 보충"


def test_instruction_layout(tmp_path, write_jsonl):
    path = write_jsonl(
        tmp_path / "koalpaca.jsonl",
        [
            {"instruction": "다음 문장을 요약하세요.", "input": "긴 문장", "output": "요약"},
            {"instruction": "인사해 주세요.", "input": "", "output": "안녕하세요!"},
        ],
    )
    out = run_stage(
        HfConfig(
            dataset=HfDatasetSpec(path=str(path), layout="instruction"), output=tmp_path / "i.jsonl"
        )
    )
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["messages"][0]["content"] == "다음 문장을 요약하세요.\n\n긴 문장"
    assert rows[1]["messages"][0]["content"] == "인사해 주세요."


def test_missing_column_is_one_line_and_writes_nothing(kormedmcqa_dir, tmp_path, capsys):
    out = tmp_path / "x.jsonl"
    with pytest.raises(InputError, match=r"missing question \(column 'Question'\) for layout mcqa"):
        run_stage(
            HfConfig(
                dataset=HfDatasetSpec(
                    path=str(kormedmcqa_dir), layout="mcqa", columns={"question": "Question"}
                ),
                output=out,
            )
        )
    assert not out.exists()
    rc = main(
        [
            "data",
            "hf",
            str(kormedmcqa_dir),
            "--layout",
            "qa",
            "--column",
            "answer=Response",
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "answer (column 'Response')" in err and not out.exists()
    rc = main(
        [
            "data",
            "hf",
            str(kormedmcqa_dir),
            "--layout",
            "mcqa",
            "--split",
            "validation",
            "-o",
            str(out),
        ]
    )
    assert rc == 1 and "validation" in capsys.readouterr().err
    rc = main(["data", "hf", str(kormedmcqa_dir), "--layout", "essay", "-o", str(out)])
    assert rc == 2 and "dataset.layout" in capsys.readouterr().err


def test_cli_formats_the_shipped_sample(tmp_path, capsys):
    from kodeio.data.samples import KORMEDMCQA, sample_path

    out = tmp_path / "med.jsonl"
    assert (
        main(["data", "hf", str(sample_path(KORMEDMCQA)), "--layout", "mcqa", "-o", str(out)]) == 0
    )
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 30
    with_reasoning = [
        r for r in rows if not r["messages"][1]["content"].startswith("<think>\n\n</think>")
    ]
    assert len(with_reasoning) >= 10
