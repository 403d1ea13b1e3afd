"""`kodeio eval translate`: chrF and BLEU (sacrebleu) on held-out Korean-English pairs.

Data, either:
- a pairs JSONL (`kodeio data aihub` output, rows `{"ko", "en", "source"}`) that was kept
  out of training; every row is asked in each configured direction with the fixed prompts
  in `kodeio/templates/eval/translate_*.txt`;
- a `kodeio data mix` dataset directory: the rows of its eval split (held out from train
  by the mixer) whose `source` is one of `sources`; the user turn is sent as it is (the
  exact training phrasing) and the reference is the assistant's answer after `</think>`.
  The direction is read from the reference (Hangul: en-ko, else ko-en).

The hypothesis is the model's text after its last `</think>` (the whole text when there
is none; such answers are counted as `unterminated`). Corpus chrF (chrF2, sacrebleu
defaults) and BLEU are computed per direction; BLEU tokenizes English with `13a` and
Korean with `char` by default (word-level BLEU is not meaningful for Korean eojeol); the
sacrebleu signatures are in the report.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.eval.config import TranslateEvalConfig
from kodeio.eval.report import build_report, file_fingerprint, write_report
from kodeio.eval.single_answer import answer_each
from kodeio.eval.stats import bootstrap_corpus_interval
from kodeio.eval.templates import render, template_tag
from kodeio.files import iter_jsonl
from kodeio.llm.base import Backend, Completion

HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
BLEU_TOKENIZE = {"en": "13a", "ko": "char"}
THINK_CLOSE = "</think>"


@dataclass
class TranslationItem:
    id: str
    direction: str  # "ko-en" | "en-ko"
    prompt: str
    reference: str


def direction_of(reference: str) -> str:
    """en-ko when the reference (the target side) is Korean, else ko-en.

    Korean text often carries English terms, so 30% Hangul letters already means Korean.
    """
    letters = [ch for ch in reference if ch.isalpha()]
    hangul = sum(1 for ch in letters if HANGUL.match(ch))
    return "en-ko" if letters and hangul * 10 >= len(letters) * 3 else "ko-en"


def answer_text(completion: str) -> tuple[str, bool]:
    """(hypothesis, unterminated): the text after the last </think>."""
    idx = completion.rfind(THINK_CLOSE)
    if idx < 0:
        return completion.strip(), True
    return completion[idx + len(THINK_CLOSE) :].strip(), False


def items_from_pairs(config: TranslateEvalConfig) -> list[TranslationItem]:
    items = []
    for lineno, row in iter_jsonl(config.data, required=("ko", "en")):
        ko, en = row["ko"], row["en"]
        if not isinstance(ko, str) or not isinstance(en, str) or not ko.strip() or not en.strip():
            raise InputError(f"{config.data}:{lineno}: 'ko' and 'en' must be non-empty strings")
        rid = str(row.get("source") or f"{config.data.name}:{lineno}")
        for direction in config.directions:
            src, ref = (ko, en) if direction == "ko-en" else (en, ko)
            name = f"translate_{direction.replace('-', '_')}.txt"
            items.append(
                TranslationItem(rid, direction, render(name, text=src.strip()), ref.strip())
            )
        if config.max_items and len(items) >= config.max_items * len(config.directions):
            break
    if not items:
        raise InputError(f"{config.data}: no pairs")
    return items


def items_from_dataset(config: TranslateEvalConfig) -> list[TranslationItem]:
    from datasets import load_from_disk

    try:
        data = load_from_disk(str(config.data))
    except Exception as exc:  # datasets raises several types for "not a saved dataset"
        raise InputError(f"{config.data}: not a saved datasets directory ({exc})") from None
    if config.split not in data:
        raise InputError(
            f"{config.data}: no split '{config.split}' (has: {', '.join(data.keys())})"
        )
    split = data[config.split]
    for column in ("source", "messages"):
        if column not in split.column_names:
            raise InputError(f"{config.data}: split '{config.split}' has no column '{column}'")
    names = sorted(set(split["source"]))
    if not config.sources:
        raise InputError(
            f"{config.data}: name the translation source(s) with --source "
            f"(values of 'source' in split '{config.split}': {', '.join(names)})"
        )
    unknown = [s for s in config.sources if s not in names]
    if unknown:
        raise InputError(
            f"{config.data}: source(s) {', '.join(unknown)} not in split '{config.split}' "
            f"(has: {', '.join(names)})"
        )
    items = []
    for index, row in enumerate(split):
        if row["source"] not in config.sources:
            continue
        messages = row["messages"]
        users = [m for m in messages if m["role"] == "user"]
        last = messages[-1] if messages else None
        if not users or last is None or last["role"] != "assistant":
            raise InputError(
                f"{config.data}: {config.split}[{index}]: expected a user turn and a final "
                "assistant turn"
            )
        reference, _ = answer_text(last["content"])
        direction = direction_of(reference)
        if direction in config.directions:
            items.append(
                TranslationItem(
                    str(row.get("id", index)), direction, users[-1]["content"], reference
                )
            )
        if config.max_items and len(items) >= config.max_items:
            break
    if not items:
        raise InputError(f"{config.data}: no translation rows in split '{config.split}'")
    return items


def load_items(config: TranslateEvalConfig) -> list[TranslationItem]:
    if config.data.is_dir():
        return items_from_dataset(config)
    return items_from_pairs(config)


def corpus_scores(
    hypotheses: list[str], references: list[str], target: str
) -> tuple[dict[str, float], dict[str, tuple[float, float]], dict[str, str]]:
    """Corpus chrF and BLEU, a 95% bootstrap interval and the sacrebleu signature of each."""
    from sacrebleu.metrics import BLEU, CHRF

    metrics = {"chrF": CHRF(), "BLEU": BLEU(tokenize=BLEU_TOKENIZE[target])}
    scores = {k: m.corpus_score(hypotheses, [references]).score for k, m in metrics.items()}
    # Signatures first: they describe the point score (a bootstrap run adds "bs:1000").
    signatures = {k: str(m.get_signature()) for k, m in metrics.items()}
    intervals = {
        k: bootstrap_corpus_interval(m, hypotheses, references) for k, m in metrics.items()
    }
    return scores, intervals, signatures


def sentence_chrf(hypothesis: str, reference: str) -> float:
    from sacrebleu.metrics import CHRF

    return CHRF().sentence_score(hypothesis, [reference]).score


def run_stage(config: TranslateEvalConfig, backend: Backend | None = None) -> Path:
    items = load_items(config)
    tag = template_tag()
    out_dir = config.resolve_output_dir("translate", config.data)

    def score(completion: Completion, item: TranslationItem) -> dict[str, Any]:
        hypothesis, unterminated = answer_text(completion.text)
        return {
            "id": item.id,
            "direction": item.direction,
            "reference": item.reference,
            "hypothesis": hypothesis,
            "chrF": round(sentence_chrf(hypothesis, item.reference), 4),
            "unterminated": unterminated,
            "finish_reason": completion.finish_reason,
            "completion": completion.text,
        }

    rows, resumed = answer_each(
        config,
        items,
        prompt=lambda item: item.prompt,
        reference=lambda item: item.reference,
        score=score,
        version="translate-v1",
        template=tag,
        out_dir=out_dir,
        label="eval translate",
        backend=backend,
    )
    metrics: dict[str, float] = {}
    intervals: dict[str, tuple[float, float]] = {}
    sizes: dict[str, int] = {}
    signatures: dict[str, str] = {}
    counts: dict[str, Any] = {"items": len(items), "resumed": resumed}
    for direction in config.directions:
        mine = [r for r in rows if r["direction"] == direction]
        if not mine:
            continue
        target = direction.split("-")[1]
        scores, spans, sigs = corpus_scores(
            [r["hypothesis"] for r in mine], [r["reference"] for r in mine], target
        )
        for name, value in scores.items():
            key = f"translate-{direction}/{name}"
            metrics[key], intervals[key], sizes[key] = value, spans[name], len(mine)
            signatures[key] = sigs[name]
        finish = Counter(r["finish_reason"] for r in mine)
        counts[direction] = {
            "sentences": len(mine),
            "unterminated": sum(r["unterminated"] for r in mine),
            "empty": sum(not r["hypothesis"] for r in mine),
            "finish_reasons": dict(finish),
        }
    report = build_report(
        "translate",
        f"translate-{config.data.stem or config.data.name}",
        model=config.model_info(),
        data=_data_info(config),
        config=config.model_dump(mode="json"),
        counts=counts,
        metrics=metrics,
        intervals=intervals,
        sizes=sizes,
        extra={"signatures": signatures, "prompt_templates": tag},
    )
    return write_report(out_dir / "report.json", report)


def _data_info(config: TranslateEvalConfig) -> dict[str, Any]:
    if config.data.is_dir():
        return {"path": str(config.data), "split": config.split, "sources": config.sources}
    return file_fingerprint(config.data)
