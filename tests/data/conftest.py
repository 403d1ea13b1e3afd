"""Fixtures of the data tests: AI Hub-style workbooks built with openpyxl, a tiny BPE
tokenizer trained on the spot, and small JSONL sources for the mixer."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

DIALOGUE_HEADER = ["ID", "대분류", "소분류", "상황", "Set Nr.", "발화자", "원문", "번역문"]
BIG_ROWS = 200_000


def _write_xlsx(
    path: Path, sheets: dict[str, list[list[object]]], write_only: bool = False
) -> Path:
    from openpyxl import Workbook

    workbook = Workbook(write_only=write_only)
    if not write_only:
        workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


@pytest.fixture(scope="session")
def aihub_dir(tmp_path_factory) -> Path:
    """Two AI Hub-style workbooks with different layouts, sheet names and messy rows."""
    root = tmp_path_factory.mktemp("aihub")
    dialogue = [
        DIALOGUE_HEADER,
        [1, "일상", "쇼핑", "옷가게", 1, "손님", "  이 셔츠 얼마예요? ", "How much is this shirt?"],
        [2, "일상", "쇼핑", "옷가게", 1, "점원", "삼만 원입니다.", "It's thirty thousand won."],
        [3, "일상", "쇼핑", "옷가게", 1, "손님", None, None],  # blank
        [4, "일상", "쇼핑", "옷가게", 1, "점원", "카드 되나요?", "   "],  # Korean only
        [5, "일상", "쇼핑", "옷가게", 2, "손님", "", "Where is the fitting room?"],  # English only
        [6, "일상", "음식", "카페", 2, "직원", "포장해 드릴까요?", "Would you like it to go?"],
    ]
    _write_xlsx(root / "01_dialogue.xlsx", {"대화체 Sheet": dialogue})
    # Plain layout: other column order, header cells with stray spaces and NFD Korean.
    import unicodedata

    nfd = unicodedata.normalize("NFD", "번역문")
    plain = [
        [f" {nfd} ", "ID", " 원문"],
        ["I am a student.", 10, "저는 학생입니다."],
        ["See you tomorrow.", 11, "내일 봐요."],
        [None, None, None],
    ]
    notes = [["이 시트는 설명입니다"], ["no data here"]]
    _write_xlsx(root / "02_plain.xlsx", {"notes": notes, "Sheet1": plain})
    return root


@pytest.fixture(scope="session")
def big_xlsx(tmp_path_factory) -> Path:
    """200k rows in the dialogue layout, written once per session (write-only mode)."""
    path = tmp_path_factory.mktemp("big") / "big.xlsx"
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sheet1")
    sheet.append(["ID", "원문", "번역문", "발화자"])
    for i in range(BIG_ROWS):
        sheet.append(
            [i, f"{i}번 문장은 시험용 한국어 문장입니다.", f"Sentence {i} is a test sentence.", "A"]
        )
    workbook.save(path)
    return path


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory) -> Path:
    """A byte-level BPE trained in the test and saved as tokenizer.json (offline)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<think>", "</think>"],
    )
    corpus = [
        "Translate the following Korean sentence into English.",
        "다음 한국어 문장을 영어로 번역해 주세요.",
        "<think> reasoning </think> the answer is",
    ] * 50
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    out = tmp_path_factory.mktemp("tok")
    tokenizer.save(str(out / "tokenizer.json"))
    return out


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def _trace_row(i: int, reasoning_words: int = 5) -> dict:
    reasoning = " ".join(f"step{j}" for j in range(reasoning_words))
    return {
        "id": f"fn{i}",
        "messages": [
            {
                "role": "user",
                "content": f"Predict the output of f({i}) for def f(x): return x * {i % 7 + 2}",
            },
            {
                "role": "assistant",
                "content": f'<think>\n{reasoning}\n</think>\n\n```json\n{{"output": {i * (i % 7 + 2)}}}\n```',
            },
        ],
    }


def gibberish(rng: random.Random, korean: bool, words: int = 6) -> str:
    """Random distinct text, so fixture rows are not near-duplicates of each other."""
    if korean:
        return " ".join(
            "".join(chr(0xAC00 + rng.randrange(11172)) for _ in range(rng.randint(2, 4)))
            for _ in range(words)
        )
    return (
        " ".join(
            "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8)))
            for _ in range(words)
        ).capitalize()
        + "."
    )


@pytest.fixture()
def mix_sources(tmp_path) -> dict[str, Path]:
    rng = random.Random(0)
    traces = _write_jsonl(tmp_path / "traces.jsonl", [_trace_row(i) for i in range(200)])
    pairs = _write_jsonl(
        tmp_path / "pairs.jsonl",
        [
            {"ko": gibberish(rng, True), "en": gibberish(rng, False), "source": f"f.xlsx:S:{i}"}
            for i in range(100)
        ],
    )
    mcqa = tmp_path / "kormed"
    mcqa.mkdir()
    _write_jsonl(
        mcqa / "train.jsonl",
        [
            {
                "question": gibberish(rng, True, 8) + "?",
                "A": "수액",
                "B": "항생제",
                "C": "수술",
                "D": "관찰",
                "E": "진통제",
                "answer": (i % 5) + 1,
                "cot": f"{i}번 환자의 상태를 보면" if i % 2 else None,
            }
            for i in range(60)
        ],
    )
    return {"traces": traces, "pairs": pairs, "mcqa": mcqa}


def _three_sources(paths, **extra) -> list[dict]:
    return [
        {
            "name": "codeio",
            "kind": "traces",
            "path": str(paths["traces"]),
            "ratio": 0.5,
            "license": "apache-2.0",
            **extra.get("codeio", {}),
        },
        {
            "name": "aihub",
            "kind": "pairs",
            "path": str(paths["pairs"]),
            "ratio": 0.3,
            "license": "AI Hub terms of use",
            **extra.get("aihub", {}),
        },
        {
            "name": "kormed",
            "kind": "hf",
            "ratio": 0.2,
            "license": "cc-by-nc-2.0",
            "dataset": {"path": str(paths["mcqa"]), "layout": "mcqa"},
            **extra.get("kormed", {}),
        },
    ]


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# The helpers above, for the tests (a test module never imports this conftest).
@pytest.fixture(scope="session")
def dialogue_header() -> list[str]:
    """The header row of AI Hub's dialogue layout."""
    return list(DIALOGUE_HEADER)


@pytest.fixture(scope="session")
def big_rows() -> int:
    """How many rows `big_xlsx` holds."""
    return BIG_ROWS


@pytest.fixture(scope="session")
def write_xlsx() -> Callable[..., Path]:
    """`write_xlsx(path, {sheet: rows}, write_only=False)`: a workbook, written with openpyxl."""
    return _write_xlsx


@pytest.fixture(scope="session")
def write_jsonl() -> Callable[[Path, list[dict]], Path]:
    """`write_jsonl(path, rows)`: the rows as UTF-8 JSONL (Korean unescaped)."""
    return _write_jsonl


@pytest.fixture(scope="session")
def trace_row() -> Callable[..., dict]:
    """`trace_row(i, reasoning_words=5)`: a verified-trace row in the messages format."""
    return _trace_row


@pytest.fixture(scope="session")
def three_sources() -> Callable[..., list[dict]]:
    """`three_sources(mix_sources, **extra)`: the traces, pairs and MCQA sources of a mix."""
    return _three_sources


@pytest.fixture(scope="session")
def tree_digest() -> Callable[[Path], dict[str, str]]:
    """`tree_digest(root)`: the SHA-256 of every file under `root`, by relative path."""
    return _tree_digest
