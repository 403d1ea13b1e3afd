"""Language consistency of Korean reasoning: the share of its words that are Korean.

R1-distill models asked to think in Korean drift into English or Chinese mid-thought
(DeepSeek-R1 added a language-consistency reward for this). With `reasoning_language: ko`
each trace row gets `language: {hangul_share, han_chars, mismatch}`, measured over the
reasoning of every turn (the text before `</think>`; all of it when the turn never closed
its thought). Code is not prose: fenced blocks and `inline code` are left out, so quoting
the function under study does not count as drift. A verified trace whose share is below
`language_check.min_hangul_share` (or, when set, with more Han characters than
`language_check.max_han_chars`) is a mismatch: export and mix leave it out by default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

FENCED = re.compile(r"```.*?(?:```|$)", re.DOTALL)
INLINE = re.compile(r"`[^`\n]*`")

# Hangul syllables, jamo, compatibility jamo and the extended jamo blocks.
HANGUL = ((0xAC00, 0xD7A3), (0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F),
          (0xD7B0, 0xD7FF))  # fmt: skip
# CJK unified ideographs (with extensions A and B) and the compatibility block.
HAN = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0xF900, 0xFAFF))


class LanguageCheckConfig(BaseModel):
    """When a verified Korean trace counts as `language_mismatch` (reasoning_language: ko)."""

    min_hangul_share: float = Field(
        0.5, ge=0, le=1, description="least share of Korean words (with Hangul) in the reasoning"
    )
    max_han_chars: int | None = Field(
        None, ge=0, description="most Han (Chinese) characters allowed; None: only reported"
    )


def _in(ranges: tuple[tuple[int, int], ...], ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in ranges)


def reasoning_text(completion: str) -> str:
    """The thought of one completion: before `</think>`, without a leading `<think>`."""
    thought = completion.split("</think>", 1)[0]
    return thought.removeprefix("<think>")


def measure(texts: Iterable[str]) -> tuple[float, int]:
    """(share of Korean words among the words of the reasoning prose, count of Han characters).

    Words, not letters: Korean attaches its particles to whatever it names (`fib(3)을`,
    `n은`), so a Korean sentence about code has Hangul in nearly every word while its letters
    are mostly the Latin of identifiers. Counted per letter, a human-written Korean trace of
    a recursive function scored 0.40 (docs/data-quality.md, calibration); per word it scores
    0.8 and above. A word (whitespace-separated) with any Hangul is Korean; one with letters
    and no Hangul is not; Chinese has no spaces, so each Han character outside a Korean word
    counts as one word of drift. Words without letters (numbers, operators) are left out.
    """
    korean = other = han = 0
    for text in texts:
        prose = INLINE.sub(" ", FENCED.sub(" ", text))
        for word in prose.split():
            word_han = sum(1 for ch in word if _in(HAN, ch))
            han += word_han
            if any(_in(HANGUL, ch) for ch in word):
                korean += 1
            elif word_han:
                other += word_han
            elif any(ch.isalpha() for ch in word):
                other += 1
    words = korean + other
    return (korean / words if words else 0.0), han


def language_field(
    completions: Iterable[str], verified: bool, check: LanguageCheckConfig
) -> dict[str, Any]:
    """The row's `language` value for the completions of a trace's turns."""
    share, han = measure(reasoning_text(c) for c in completions)
    return {
        "hangul_share": round(share, 4),
        "han_chars": han,
        "mismatch": is_off(share, han, verified, check),
    }


def is_off(share: float, han: int, verified: bool, check: LanguageCheckConfig) -> bool:
    """Whether a trace with these measures is a language_mismatch (only verified ones are)."""
    off = share < check.min_hangul_share or (
        check.max_han_chars is not None and han > check.max_han_chars
    )
    return verified and off


def is_mismatch(row: dict[str, Any]) -> bool:
    language = row.get("language")
    return isinstance(language, dict) and bool(language.get("mismatch"))
