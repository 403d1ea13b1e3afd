"""`kodeio eval mcqa`: multiple-choice accuracy in the KorMedMCQA layout.

Rows hold `question`, one column per choice letter (`A`..`E`; empty choices are left
out, as in 4-choice exams stored in 5 columns) and `answer` (a letter, or 1-based index as
KorMedMCQA stores it). Data is a JSONL file or a saved `datasets` directory (`split`).

The answer letter is read from the text after the model's last `</think>` (the whole
text when there is none, counted as `unterminated`): the last `정답: X` / `answer: X` /
`\\boxed{X}` there, else a letter alone on the last line (`X`, `(X)`, `X.`), else a
1-based number after `정답`. An answer with no letter counts as wrong (`unparsed`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.eval.config import McqaEvalConfig
from kodeio.eval.report import build_report, file_fingerprint, write_report
from kodeio.eval.single_answer import answer_each
from kodeio.eval.stats import wilson_interval
from kodeio.eval.templates import render, template_tag
from kodeio.eval.translate import answer_text
from kodeio.files import iter_jsonl
from kodeio.llm.base import Backend, Completion

CIRCLED = "①②③④⑤⑥⑦⑧⑨"


@dataclass
class Question:
    id: str
    prompt: str
    answer: str  # the correct letter
    letters: str  # the letters offered


def _letter_patterns(letters: str) -> list[re.Pattern[str]]:
    # Letters are upper case only: "answer a question" must not read as choice A.
    cls = f"[{re.escape(letters)}]"
    return [
        # 정답: B / 정답은 (B) / Answer: B / The answer is B / 답: B.
        re.compile(
            rf"(?:정답|답|[Aa]nswer|ANSWER)\s*(?:은|는|is|:|：)?\s*(?:is\s*)?[:：]?\s*\(?\**({cls})\b(?!\w)"
        ),
        re.compile(rf"\\boxed\{{\s*\(?({cls})\)?\s*\}}"),
    ]


def parse_letter(text: str, letters: str) -> str | None:
    """The chosen letter in an answer region, or None."""
    for pattern in _letter_patterns(letters):
        found = pattern.findall(text)
        if found:
            return found[-1].upper()
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if lines:
        last = lines[-1].strip("*` ")
        m = re.fullmatch(rf"\(?([{letters}])\)?[.:)]?(?:\s.*)?", last)
        if m:
            return m.group(1)
    m = re.findall(r"(?:정답|답)\s*(?:은|는)?\s*[:：]?\s*([1-9①-⑨])\s*번?", text)
    if m:
        raw = m[-1]
        index = CIRCLED.index(raw) + 1 if raw in CIRCLED else int(raw)
        if 1 <= index <= len(letters):
            return letters[index - 1]
    return None


def answer_letter(value: Any, letters: str) -> str | None:
    """'B', 'b', '(B)', 'B.', 2, '2' (1-based, as KorMedMCQA) -> 'B'."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float) and float(value).is_integer():
        index = int(value)
        return letters[index - 1] if 1 <= index <= len(letters) else None
    text = str(value).strip().strip("().").strip().upper()
    if len(text) == 1 and text in letters:
        return text
    if text.isdigit():
        return answer_letter(int(text), letters)
    return None


def question_from_row(row: dict[str, Any], where: str, letters: str, rid: str) -> Question:
    for key in ("question", "answer"):
        if key not in row:
            raise InputError(f"{where}: missing key '{key}' (expected question, A..E, answer)")
    if not isinstance(row["question"], str) or not row["question"].strip():
        raise InputError(f"{where}: key 'question' must be a non-empty string")
    options = {}
    for letter in letters:
        value = row.get(letter)
        if value is not None and str(value).strip():
            options[letter] = str(value).strip()
    if len(options) < 2:
        raise InputError(
            f"{where}: expected at least two choices among columns {', '.join(letters)}"
        )
    answer = answer_letter(row["answer"], letters)
    if answer is None or answer not in options:
        raise InputError(
            f"{where}: key 'answer' is {row['answer']!r}; expected one of {', '.join(options)} "
            f"or its 1-based number"
        )
    offered = "".join(options)
    prompt = render(
        "mcqa_user.txt",
        question=row["question"].strip(),
        options="\n".join(f"{k}. {v}" for k, v in options.items()),
        letters_hint="/".join(offered),
    )
    return Question(rid, prompt, answer, offered)


def load_questions(config: McqaEvalConfig) -> list[Question]:
    questions = []
    if config.data.is_dir():
        from datasets import load_from_disk

        try:
            data = load_from_disk(str(config.data))
        except Exception as exc:  # several exception types mean "not a saved dataset"
            raise InputError(f"{config.data}: not a saved datasets directory ({exc})") from None
        if hasattr(data, "keys"):
            if config.split not in data:
                raise InputError(
                    f"{config.data}: no split '{config.split}' (has: {', '.join(data.keys())})"
                )
            data = data[config.split]
        for index, row in enumerate(data):
            where = f"{config.data}: {config.split}[{index}]"
            questions.append(
                question_from_row(row, where, config.letters, str(row.get("id", index)))
            )
            if config.max_items and len(questions) >= config.max_items:
                break
    else:
        for lineno, row in iter_jsonl(config.data):
            where = f"{config.data}:{lineno}"
            rid = str(row.get("id", f"{config.data.name}:{lineno}"))
            questions.append(question_from_row(row, where, config.letters, rid))
            if config.max_items and len(questions) >= config.max_items:
                break
    if not questions:
        raise InputError(f"{config.data}: no questions")
    return questions


def run_stage(config: McqaEvalConfig, backend: Backend | None = None) -> Path:
    questions = load_questions(config)
    tag = template_tag()
    out_dir = config.resolve_output_dir("mcqa", config.data)

    def score(completion: Completion, q: Question) -> dict[str, Any]:
        region, unterminated = answer_text(completion.text)
        chosen = parse_letter(region, q.letters)
        return {
            "id": q.id,
            "answer": q.answer,
            "chosen": chosen,
            "correct": chosen == q.answer,
            "unterminated": unterminated,
            "finish_reason": completion.finish_reason,
            "completion": completion.text,
        }

    rows, resumed = answer_each(
        config,
        questions,
        prompt=lambda q: q.prompt,
        reference=lambda q: q.answer,
        score=score,
        version="mcqa-v1",
        template=tag,
        out_dir=out_dir,
        label="eval mcqa",
        backend=backend,
    )
    correct = sum(r["correct"] for r in rows)
    lo, hi = wilson_interval(correct, len(rows))
    name = config.data.stem or config.data.name
    report = build_report(
        "mcqa",
        f"mcqa-{name}",
        model=config.model_info(),
        data=(
            {"path": str(config.data), "split": config.split}
            if config.data.is_dir()
            else file_fingerprint(config.data)
        ),
        config=config.model_dump(mode="json"),
        counts={
            "questions": len(rows),
            "correct": correct,
            "unparsed": sum(r["chosen"] is None for r in rows),
            "unterminated": sum(r["unterminated"] for r in rows),
            "chosen": dict(Counter(str(r["chosen"]) for r in rows)),
            "resumed": resumed,
        },
        metrics={f"mcqa-{name}/accuracy": 100 * correct / len(rows)},
        intervals={f"mcqa-{name}/accuracy": (100 * lo, 100 * hi)},
        sizes={f"mcqa-{name}/accuracy": len(rows)},
        extra={"prompt_templates": tag},
    )
    return write_report(out_dir / "report.json", report)
