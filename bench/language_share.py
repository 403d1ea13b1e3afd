"""Calibration: how Korean the language check finds real Korean and real English prose.

Not a speed benchmark. It reads paragraphs (blank-line separated, fenced code removed, at
least 80 letters) of Korean and English markdown/text files and prints, for each side, the
percentiles of kodeio's measure (`kodeio.synth.language.measure`, the share of words that
carry Hangul) beside the per-letter share kodeio used before, and how many paragraphs each
would mark as a mismatch at a threshold.

    python bench/language_share.py --korean KO.md [KO2.txt ...] [--english docs/*.md]
        [--threshold 0.5]

Defaults: English = kodeio's own docs/*.md; Korean = the Korean sentences of the shipped AI
Hub sample and the KorMedMCQA sample questions (no Korean prose about code ships with
kodeio; pass such a file, e.g. the project brief, with --korean).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from kodeio.synth.language import HANGUL, _in, measure

REPO = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"```.*?```", re.DOTALL)


def letter_share(text: str) -> float:
    """The per-letter share (Hangul letters / all letters) kodeio measured before."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if _in(HANGUL, ch)) / len(letters) if letters else 0.0


def paragraphs(path: Path) -> list[str]:
    text = FENCE.sub(" ", path.read_text(encoding="utf-8"))
    parts = re.split(r"\n\s*\n", text)
    return [p for p in parts if sum(ch.isalpha() for ch in p) >= 80]


def shipped_korean() -> list[str]:
    """Korean sentences of the shipped samples, joined ten to a paragraph."""
    import openpyxl

    book = openpyxl.load_workbook(
        REPO / "kodeio/data/samples/aihub_ko_en_sample.xlsx", read_only=True
    )
    sentences = []
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(rows)]
        col = header.index("원문")
        sentences += [str(r[col]) for r in rows if r[col]]
    for line in (REPO / "kodeio/data/samples/kormedmcqa_sample.jsonl").read_text().splitlines():
        sentences.append(json.loads(line)["question"])
    return [" ".join(sentences[i : i + 10]) for i in range(0, len(sentences), 10)]


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    at = [ordered[round(q * (len(ordered) - 1))] for q in (0.0, 0.1, 0.25, 0.5, 0.9)]
    return " / ".join(f"{v:.2f}" for v in at)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--korean", nargs="*", type=Path, default=[])
    ap.add_argument("--english", nargs="*", type=Path, default=sorted((REPO / "docs").glob("*.md")))
    ap.add_argument("--threshold", type=float, default=0.5)
    args = ap.parse_args()
    sides = {
        "korean": [p for f in args.korean for p in paragraphs(f)] or shipped_korean(),
        "english": [p for f in args.english for p in paragraphs(f)],
    }
    print(
        f"{'side':8} {'measure':10} {'n':>4}  min / p10 / p25 / p50 / p90   below {args.threshold}"
    )
    for side, paras in sides.items():
        for name, fn in (("per word", lambda p: measure([p])[0]), ("per letter", letter_share)):
            values = [fn(p) for p in paras]
            below = sum(1 for v in values if v < args.threshold)
            print(f"{side:8} {name:10} {len(values):4}  {percentiles(values)}   {below}")


if __name__ == "__main__":
    main()
