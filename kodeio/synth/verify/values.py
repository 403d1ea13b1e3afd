"""Turn answer text into a Python value without ever evaluating it.

Models write answers as JSON, as Python literals, or as something in between (`True` in a
JSON object, `null` in a Python dict, `// comments`, `nan`). `parse_value` tries strict
JSON, then `kodeio.sandbox.values.parse_literal`, then one repair pass that rewrites those
spellings into Python literals. Nothing here calls `eval`; calls and operators are refused.

`interpret_snippet` reads a short answer written in code form (a `\\boxed{}` body, an
`[ANSWER]` tag, the last line): a value, `{"output": ...}`, a call `f(1, 2)`, bare call
arguments `1, 2` or CRUXEval's `assert f(1) == 2`.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

from kodeio.sandbox.values import NotALiteral, parse_call_args, parse_literal

# What a malformed, huge or deeply nested text can raise while being parsed as data.
PARSE_ERRORS = (ValueError, TypeError, SyntaxError, RecursionError, MemoryError, OverflowError)

# JSON / JavaScript / Python spellings that are not Python literals, and their literal form.
_WORDS = {
    "true": "True",
    "false": "False",
    "null": "None",
    "none": "None",
    "nan": "float('nan')",
    "NaN": "float('nan')",
    "inf": "float('inf')",
    "Infinity": "float('inf')",
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Unparsable(ValueError):
    """The text is not a JSON value or a Python literal, even after repair."""


@dataclass(frozen=True)
class CallAnswer:
    """An input prediction written as code rather than as a value.

    `func` is the called name (`"f"` for `f(1, 2)`, `"Solution().run"` for a method call),
    or None for bare call arguments (`1, 2` or `x=1, y=2`). `args_source` is the argument
    list as it would appear inside the parentheses, re-spelled from the syntax tree so it is
    always well-formed. Evaluating it is the sandbox's job, never the host's.
    """

    func: str | None
    args_source: str

    def call_source(self, entry: str) -> str:
        return f"{self.func or entry}({self.args_source})"


def parse_value(text: str) -> Any:
    """JSON, else a Python literal, else the repaired text as a Python literal."""
    s = text.strip()
    if not s:
        raise Unparsable("empty answer")
    try:
        return json.loads(s)
    except PARSE_ERRORS:
        pass
    try:
        return parse_literal(s)
    except PARSE_ERRORS:
        pass
    repaired = repair_literal(s)
    if repaired != s:
        try:
            return parse_literal(repaired)
        except PARSE_ERRORS:
            pass
    raise Unparsable(f"not a JSON value or Python literal: {_clip(s)}")


def repair_literal(text: str) -> str:
    """Rewrite JSON/JS spellings outside strings: true/null/NaN, // and /* */ comments."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = _string_end(text, i)
            if j < 0:
                out.append(text[i:])
                break
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif (m := _IDENT.match(text, i)) is not None:
            word = m.group(0)
            prev = text[i - 1] if i else ""
            out.append(_WORDS.get(word, word) if prev != "." else word)
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    """Index of the quote closing the string opened at `start`, or -1."""
    quote = text[start]
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == quote:
            return i
        i += 1
    return -1


def interpret_snippet(text: str, key: str) -> Any:
    """Read a short answer in code form for `key` ("output" or "input").

    Returns the value (for input: a dict of kwargs, a CallAnswer, or a single argument).
    Raises Unparsable, or WrongKey when it is an object answering the other question.
    """
    s = _strip_code_marks(text)
    if not s:
        raise Unparsable("empty answer")
    if key == "input":
        bare = _bare_call_args(s)
        if bare is not None:
            return bare
    try:
        value = parse_value(s)
    except Unparsable:
        value = _NOTHING
    if value is not _NOTHING:
        return pick_key(value, key, bare_dict_ok=True)
    tree = _parse_code(s)
    if tree is None:
        bare = _literal_call_args(s) if key == "input" else None
        if bare is not None:
            return bare  # `x=1, y=[2]`: keyword arguments written bare
        raise Unparsable(f"not a value or a call: {_clip(s)}")
    if isinstance(tree, ast.Compare) and len(tree.ops) == 1 and isinstance(tree.ops[0], ast.Eq):
        # CRUXEval's `assert f(x) == y`: the call side is the input, the other the output.
        left, right = tree.left, tree.comparators[0]
        call, other = (left, right) if isinstance(left, ast.Call) else (right, left)
        if not isinstance(call, ast.Call):
            raise Unparsable(f"a comparison without a call: {_clip(s)}")
        if key == "input":
            return _call_answer(call)
        try:
            return parse_literal(ast.unparse(other))
        except PARSE_ERRORS:
            raise Unparsable(f"the expected value is not a literal: {_clip(s)}") from None
    if isinstance(tree, ast.Call) and key == "input":
        return _call_answer(tree)
    bare = _literal_call_args(s) if key == "input" else None
    if bare is not None:
        return bare
    raise Unparsable(f"not a literal {key}: {_clip(s)}")


def _literal_call_args(s: str) -> CallAnswer | None:
    """Bare call arguments made of literals only, re-spelled from the syntax tree."""
    try:
        parse_call_args(s)
        call = ast.parse(f"f({s})", mode="eval").body
    except PARSE_ERRORS:
        return None
    if not isinstance(call, ast.Call):
        return None
    return CallAnswer(None, _call_answer(call).args_source)


class WrongKey(ValueError):
    """An object answer that does not hold the expected key."""


def pick_key(value: Any, key: str, bare_dict_ok: bool) -> Any:
    """`{"output": v}` -> v. Non-objects are the answer themselves.

    An object holding the other key (`{"input": ...}` when the output was asked) is a
    wrong answer shape. A bare object is the answer itself only where `bare_dict_ok`
    (a `\\boxed{}` or last line); in a json block the prompt asked for `{"<key>": ...}`.
    """
    if not isinstance(value, dict):
        return value
    if key in value:
        return value[key]
    other = "input" if key == "output" else "output"
    if other in value or not bare_dict_ok:
        raise WrongKey(f"object has keys {_clip(repr(list(value)))} but not {key!r}")
    return value


_NOTHING = object()


def _parse_code(s: str) -> ast.expr | None:
    """The expression in `s`, or the test of `assert <expr>`; None if it is neither."""
    try:
        module = ast.parse(s)
    except PARSE_ERRORS:
        return None
    if len(module.body) != 1:
        return None
    stmt = module.body[0]
    if isinstance(stmt, ast.Assert):
        return stmt.test
    if isinstance(stmt, ast.Expr):
        return stmt.value
    return None


def _call_answer(call: ast.Call) -> CallAnswer:
    parts = [ast.unparse(a) for a in call.args] + [ast.unparse(k) for k in call.keywords]
    return CallAnswer(ast.unparse(call.func), ", ".join(parts))


def _bare_call_args(s: str) -> CallAnswer | None:
    """`1, 2` or `[1], key='x'`: arguments without a call around them (unparenthesized)."""
    try:
        tree = ast.parse(s, mode="eval").body
    except PARSE_ERRORS:
        return None
    if isinstance(tree, ast.Tuple) and tree.elts:
        # An unparenthesized tuple starts where its first element starts.
        first = tree.elts[0]
        if (tree.lineno, tree.col_offset) == (first.lineno, first.col_offset):
            return CallAnswer(None, ", ".join(ast.unparse(e) for e in tree.elts))
    return None


def _strip_code_marks(text: str) -> str:
    s = text.strip()
    fence = re.fullmatch(r"`{3,}[\w+-]*\s*\n?(.*?)\n?\s*`{3,}", s, flags=re.S)
    if fence:
        s = fence.group(1).strip()
    if len(s) >= 2 and s[0] == s[-1] == "`":
        s = s.strip("`").strip()
    return s


def _clip(s: str, n: int = 80) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


__all__ = [
    "PARSE_ERRORS",
    "CallAnswer",
    "NotALiteral",
    "Unparsable",
    "WrongKey",
    "interpret_snippet",
    "parse_value",
    "pick_key",
    "repair_literal",
]
