"""Markdown sections on the quality of traces: difficulty, verified yield per turn, language.

Used by the card of `kodeio synth export` to a dataset directory and by the card of
`kodeio data mix` (kodeio/data/card.py), so a reader of either can judge the data.
"""

from __future__ import annotations

from typing import Any

from kodeio.synth.difficulty import BANDS


def difficulty_section(difficulty: dict[str, Any]) -> list[str]:
    """From `TraceStats.difficulty_dict()`: bands and the pass-rate histogram by mode and
    by seed category, in (pair, mode) counts."""
    lines = [
        "## Difficulty",
        "",
        "Pass rate = verified samples / samples drawn for one (pair, mode); counts are pairs.",
        "",
        "| mode | " + " | ".join(BANDS) + " |",
        "|---|" + "---|" * len(BANDS),
    ]
    for mode, bands in difficulty["band_by_mode"].items():
        lines.append(f"| {mode} | " + " | ".join(str(bands.get(b, 0)) for b in BANDS) + " |")
    for title, table in (
        ("mode", difficulty["pass_rate_by_mode"]),
        ("seed category", difficulty["pass_rate_by_category"]),
    ):
        rates = sorted({r for hist in table.values() for r in hist}, key=float)
        lines += [
            "",
            f"| {title} | " + " | ".join(f"pass {r}" for r in rates) + " |",
            "|---|" + "---|" * len(rates),
        ]
        for name, hist in table.items():
            lines.append(f"| {name} | " + " | ".join(str(hist.get(r, 0)) for r in rates) + " |")
    return [*lines, ""]


def yield_by_turn_section(verified_by_turn: dict[int, int], traces: int) -> list[str]:
    """Verified traces by the turn that got them right, and cumulative yield."""
    lines = [
        "## Verified yield per turn",
        "",
        "| turn | verified at this turn | cumulative yield |",
        "|---|---|---|",
    ]
    total = 0
    for turn in sorted(verified_by_turn):
        total += verified_by_turn[turn]
        share = f"{100 * total / traces:.1f}%" if traces else "–"
        lines.append(f"| {turn} | {verified_by_turn[turn]} | {share} |")
    return [*lines, f"| all | {total} of {traces} traces | |", ""]


def language_section(language: dict[str, Any], kept_mismatch: bool | None = None) -> list[str]:
    """From `TraceStats.language_dict()`: Hangul share of the Korean reasoning."""
    lines = [
        "## Language consistency (Korean)",
        "",
        f"{language['measured']} traces measured; {language['with_han']} contain Han (Chinese) "
        f"characters; {language['language_mismatch']} verified traces are `language_mismatch`"
        + ("" if kept_mismatch is None else (" (kept)" if kept_mismatch else " (left out)"))
        + ".",
        "",
        "| share of Korean words in the reasoning | traces |",
        "|---|---|",
    ]
    lines += [f"| {span} | {n} |" for span, n in language["hangul_share"].items()]
    return [*lines, ""]


def render_export_card(stats: dict[str, Any], rows: int, kept_mismatch: bool = False) -> str:
    """The README.md of an exported dataset, from `TraceStats.to_dict()` of its traces."""
    turns = {int(t): n for t, n in stats["verified_by_turn"].items()}
    lines = [
        "# kodeio reasoning traces",
        "",
        f"Written by `kodeio synth export`: {rows} conversations from {stats['traces']} "
        f"traces ({stats['verified']} verified).",
        "",
    ]
    if "difficulty" in stats:
        lines += difficulty_section(stats["difficulty"])
    lines += yield_by_turn_section(turns, stats["traces"])
    if "language" in stats:
        lines += language_section(stats["language"], kept_mismatch)
    return "\n".join(lines)
