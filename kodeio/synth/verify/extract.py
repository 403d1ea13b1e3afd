"""Find the final answer in a model's output (R1-style reasoning traces and plain answers).

The reasoning is the text before the last `</think>`; the answer region is the text after
it. Without a `</think>` (a truncated trace, or a model that does not think aloud) the
whole text is searched from its end and the extraction is marked `unterminated`.

In the answer region, the first of these that is present wins, and within each kind the
last occurrence wins (the model's final word, not a draft):

1. `json_block`  the last complete ```json fenced block (one holding the key is preferred
                 over a later one that does not: a trailing block restating the input is
                 not the answer);
2. `braces`      the last balanced `{...}` holding the key, e.g. `{"output": 3}` in prose;
3. `boxed`       the last `\\boxed{...}`;
4. `answer_tag`  the last `[ANSWER] ... [/ANSWER]` (CRUXEval's prompts; the closing tag is
                 often cut by the stop word);
5. `final_line`  a bare literal (or, for inputs, a call) on the last non-empty line.

Text is parsed as JSON, else as a Python literal (`kodeio.sandbox.values.parse_literal`),
never evaluated. Failures carry a reason: `no_answer` (nothing answer-like), `unparsable`
(an answer container whose content is not a value) or `wrong_key` (an object without the
expected key, e.g. `{"input": ...}` when the output was asked).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from kodeio.synth.verify.values import (
    Unparsable,
    WrongKey,
    interpret_snippet,
    parse_value,
    pick_key,
)

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
Key = Literal["output", "input"]
FailReason = Literal["no_answer", "unparsable", "wrong_key"]


@dataclass(frozen=True)
class Extraction:
    """What was found. `value` is meaningful only when `ok`."""

    ok: bool
    value: Any
    reason: FailReason | None
    reasoning: str  # the chain of thought (before the last </think>, without <think>)
    answer_text: str  # the text the answer was read from ("" when none was found)
    unterminated: bool  # no </think>: truncated, or the model did not think aloud
    source: str  # json_block | braces | boxed | answer_tag | final_line | answer | none
    detail: str = ""  # why it failed, for logs and revision feedback


def split_reasoning(text: str) -> tuple[str, str, bool]:
    """(reasoning, answer region, unterminated)."""
    idx = text.rfind(THINK_CLOSE)
    if idx < 0:
        return _drop_think_open(text), text, True
    return _drop_think_open(text[:idx]), text[idx + len(THINK_CLOSE) :], False


def _drop_think_open(text: str) -> str:
    s = text.strip()
    return s[len(THINK_OPEN) :].strip() if s.startswith(THINK_OPEN) else s


def extract_answer(text: str, key: Key) -> Extraction:
    """Extract the final `key` ("output" or "input") answer from a model's output."""
    if key not in ("output", "input"):
        raise ValueError(f"key must be 'output' or 'input', got {key!r}")
    reasoning, region, unterminated = split_reasoning(text or "")
    for source, finder in _FINDERS:
        found = finder(region, key)
        if found is not None:
            return _finish(found, source, reasoning, unterminated)
    return Extraction(False, None, "no_answer", reasoning, "", unterminated, "none")


def interpret_answer(text: str, key: Key) -> Extraction:
    """Read text that is already the answer (a CRUXEval prediction, a literal, a call)."""
    found = _Found(text, lambda: interpret_snippet(text, key))
    return _finish(found, "answer", "", False)


@dataclass
class _Found:
    """A candidate answer text and how to read a value out of it."""

    text: str
    read: Callable[[], Any]


def _finish(found: _Found, source: str, reasoning: str, unterminated: bool) -> Extraction:
    try:
        value = found.read()
    except WrongKey as exc:
        return Extraction(
            False, None, "wrong_key", reasoning, found.text, unterminated, source, str(exc)
        )
    except Unparsable as exc:
        return Extraction(
            False, None, "unparsable", reasoning, found.text, unterminated, source, str(exc)
        )
    return Extraction(True, value, None, reasoning, found.text, unterminated, source)


# ---- 1. fenced ```json blocks ----------------------------------------------------------

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$")


def fenced_blocks(text: str) -> list[tuple[str, str, int]]:
    """Every complete fenced block as (info word, content, end offset), nested ones too.

    Models nest fences loosely (a ```markdown block quoting a ```json block with fences of
    the same length), so this is stack-based rather than CommonMark: a fence with an info
    word always opens a block; a bare fence closes the innermost open block when it is at
    least as long (same character), and opens one otherwise. Blocks left open at the end
    (truncated output) are not complete and are not returned.
    """
    blocks: list[tuple[str, str, int]] = []
    stack: list[tuple[str, str, int]] = []  # (fence, info, content start)
    offset = 0
    for line in text.splitlines(keepends=True):
        line_start, offset = offset, offset + len(line)
        m = _FENCE.match(line.rstrip("\r\n"))
        if not m:
            continue
        fence, info = m.group(1), m.group(2).lower()
        top = stack[-1] if stack else None
        if not info and top is not None and fence[0] == top[0][0] and len(fence) >= len(top[0]):
            stack.pop()
            blocks.append((top[1], text[top[2] : line_start], offset))
        else:
            stack.append((fence, info, offset))
    blocks.sort(key=lambda b: b[2])
    return blocks


def _find_json_block(region: str, key: str) -> _Found | None:
    blocks = [c for info, c, _ in fenced_blocks(region) if info in ("json", "json5", "jsonc")]
    if not blocks:
        return None
    pattern = _key_pattern(key)
    for content in reversed(blocks):
        if pattern.search(content) and _holds_key(content, key):
            return _Found(content.strip(), lambda c=content: _read_object_text(c, key))
    last = blocks[-1]
    return _Found(last.strip(), lambda: _read_object_text(last, key))


def _holds_key(content: str, key: str) -> bool:
    try:
        _read_object_text(content, key)
        return True
    except (Unparsable, WrongKey):
        return False


def _read_object_text(content: str, key: str) -> Any:
    """A json block's content: `{"<key>": v}` -> v; a non-object value is itself the answer."""
    try:
        value = parse_value(content)
    except Unparsable:
        # Two objects in one block, or prose around it: the last balanced object with the key.
        span = _last_keyed_object(content, key)
        if span is None:
            raise
        return span.read()
    return pick_key(value, key, bare_dict_ok=False)


# ---- 2. balanced braces holding the key --------------------------------------------------


def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(rf"""(["']){key}\1\s*:""")


def brace_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every balanced `{...}`, nested included, in order of their end.

    Inside braces, a quoted string is skipped when it closes on the same line (so `"}"` in a
    JSON string does not count, while a stray apostrophe in prose does not swallow the
    rest). LaTeX-escaped `\\{` and `\\}` are not grouping braces.
    """
    spans: list[tuple[int, int]] = []
    stack: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "{}":
            i += 2
            continue
        if stack and c in "\"'":
            j = _same_line_string_end(text, i)
            if j > 0:
                i = j + 1
                continue
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            spans.append((stack.pop(), i + 1))
        i += 1
    return spans


def _same_line_string_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\n":
            return -1
        if c == "\\":
            i += 2
            continue
        if c == quote:
            return i
        i += 1
    return -1


def _last_keyed_object(region: str, key: str) -> _Found | None:
    """The last outermost brace span holding the key, read from outside in.

    `\\boxed{{"output": 3}}` fails as a whole and succeeds on its inner span. Earlier spans
    are not tried when the last one fails: that one is the committed answer, and reading
    an earlier draft instead would judge something the model did not finally say.
    """
    pattern = _key_pattern(key)
    spans = [
        s
        for s in brace_spans(region)
        if pattern.search(region, s[0], s[1])
        and not _BOX_BEFORE.search(region, max(0, s[0] - 16), s[0])
    ]
    if not spans:
        return None
    outermost = [s for s in spans if not any(o[0] < s[0] and s[1] < o[1] for o in spans)]
    last = outermost[-1]
    nested = sorted(
        (s for s in spans if last[0] <= s[0] and s[1] <= last[1]),
        key=lambda s: (s[0], -s[1]),
    )
    text = region[last[0] : last[1]]

    def read() -> Any:
        error: Exception | None = None
        for a, b in nested:
            try:
                value = parse_value(region[a:b])
            except Unparsable as exc:
                error = error or exc
                continue
            if isinstance(value, dict) and key in value:
                return value[key]
            error = error or WrongKey(f"object without {key!r}")
        assert error is not None
        raise error

    return _Found(text, read)


# A brace span that is the body of \boxed{...} is read by the boxed step (it unescapes LaTeX).
_BOX_BEFORE = re.compile(r"\\(?:boxed|fbox)\s*$")


def _find_braces(region: str, key: str) -> _Found | None:
    return _last_keyed_object(region, key)


# ---- 3. \boxed{...} ----------------------------------------------------------------------

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_LATEX_WRAPPERS = re.compile(r"\\(?:text|texttt|textbf|mathrm|mathtt|operatorname)\s*\{([^{}]*)\}")


def _find_boxed(region: str, key: str) -> _Found | None:
    starts = [m.end() for m in _BOXED.finditer(region)]
    for start in reversed(starts):
        end = _matching_brace(region, start)
        if end is None:
            continue  # cut off inside the box; an earlier complete box may still stand
        body = region[start:end]
        return _Found(body, lambda b=body: interpret_snippet(_unlatex(b), key))
    return None


def _matching_brace(text: str, start: int) -> int | None:
    depth = 1
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _unlatex(body: str) -> str:
    s = body
    for _ in range(3):  # \text{\texttt{x}}
        s = _LATEX_WRAPPERS.sub(r"\1", s)
    s = s.replace("\\{", "{").replace("\\}", "}").replace("\\left", "").replace("\\right", "")
    s = s.replace("\\_", "_").replace("\\%", "%").replace("\\$", "$").replace("\\,", " ")
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] == "$":
        s = s.strip("$").strip()
    return s


# ---- 4. [ANSWER] ... [/ANSWER] -----------------------------------------------------------


def _find_answer_tag(region: str, key: str) -> _Found | None:
    start = region.rfind("[ANSWER]")
    if start < 0:
        return None
    body = region[start + len("[ANSWER]") :]
    end = body.find("[/ANSWER]")
    if end >= 0:
        body = body[:end]
    return _Found(body.strip(), lambda: interpret_snippet(body, key))


# ---- 5. the final line -------------------------------------------------------------------

_ANSWER_PREFIX = re.compile(
    r"^(?:final\s+answer|the\s+answer\s+is|answer|output|input|result|"
    r"최종\s*답|정답|답|출력|입력|결과)\s*(?:is|은|는|:|：|=)?\s*[:：]?\s*",
    flags=re.I,
)


_KOREAN_ANSWER = re.compile(r"(?:정답|답|결과|출력값?|입력값?|반환값)\s*(?:은|는|:|：)\s*")
_KOREAN_ENDING = re.compile(r"\s*(?:입니다|이에요|예요|이다)\s*[.。]?$")


def _find_final_line(region: str, key: str) -> _Found | None:
    lines = [
        ln.strip() for ln in region.splitlines() if ln.strip() and not ln.strip().startswith("```")
    ]
    if not lines:
        return None
    line = lines[-1]
    for candidate in _line_candidates(line):
        try:
            value = interpret_snippet(candidate, key)
        except WrongKey:
            return _Found(line, lambda c=candidate: interpret_snippet(c, key))
        except Unparsable:
            continue
        return _Found(candidate, lambda v=value: v)
    return None  # the last line is prose: there is no answer


def _line_candidates(line: str) -> list[str]:
    raw = line.strip()
    s = re.sub(r"\*\*(.+?)\*\*", r"\1", raw).strip()  # markdown bold: **Output:** `x`
    out = [raw, s]
    code = re.findall(r"`([^`]+)`", s)
    if code:
        out.append(code[-1])
    stripped = _ANSWER_PREFIX.sub("", s, count=1)
    if stripped != s:
        out.append(stripped)
    for sep in (":", "：", " is ", "="):
        if sep in s:
            out.append(s.rsplit(sep, 1)[1])
    korean = _KOREAN_ANSWER.search(s)
    if korean:
        out.append(s[korean.end() :])
    out += [c.rstrip(".。").strip() for c in list(out)]
    out += [_KOREAN_ENDING.sub("", c).strip() for c in list(out)]
    seen: set[str] = set()
    return [c for c in out if c and not (c in seen or seen.add(c))]


_FINDERS: tuple[tuple[str, Callable[[str, str], _Found | None]], ...] = (
    ("json_block", _find_json_block),
    ("braces", _find_braces),
    ("boxed", _find_boxed),
    ("answer_tag", _find_answer_tag),
    ("final_line", _find_final_line),
)
