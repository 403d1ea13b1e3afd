"""Python values as text and back, without ever calling `eval` outside the sandbox.

`literal_repr` spells a value so that `parse_literal` gives it back: nan and inf become
`float('nan')` / `float('inf')`, which plain `repr` cannot round-trip. `parse_literal` is
`ast.literal_eval` plus those float spellings and `set()`/`frozenset(...)`.
`parse_call_args` reads CRUXEval-style call arguments (`"[1, 2], key='x'"`).

This module is also loaded by the sandbox worker, so it must stay stdlib-only.
"""

from __future__ import annotations

import ast
import math
from typing import Any

_FLOAT_WORDS = {"nan": math.nan, "inf": math.inf, "infinity": math.inf, "-inf": -math.inf}


def literal_repr(value: Any, _depth: int = 0) -> str:
    """`repr`, except that non-finite floats (also inside containers) round-trip."""
    if _depth > 200:
        return repr(value)
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "float('nan')"
        return "float('inf')" if value > 0 else "-float('inf')"
    if isinstance(value, complex):
        return (
            repr(value)
            if math.isfinite(value.real) and math.isfinite(value.imag)
            else f"complex({literal_repr(value.real)}, {literal_repr(value.imag)})"
        )
    t = type(value)
    if t is list:
        return "[" + ", ".join(literal_repr(v, _depth + 1) for v in value) + "]"
    if t is tuple:
        inner = ", ".join(literal_repr(v, _depth + 1) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if t is dict:
        return (
            "{"
            + ", ".join(
                f"{literal_repr(k, _depth + 1)}: {literal_repr(v, _depth + 1)}"
                for k, v in value.items()
            )
            + "}"
        )
    if t is set or t is frozenset:
        if not value:
            return "set()" if t is set else "frozenset()"
        try:
            items = sorted(value, key=_sort_key)
        except Exception:
            items = list(value)
        inner = "{" + ", ".join(literal_repr(v, _depth + 1) for v in items) + "}"
        return inner if t is set else f"frozenset({inner})"
    return repr(value)


def _sort_key(v: Any) -> tuple[str, Any]:
    # Sets print in hash order, which depends on PYTHONHASHSEED for str; sort for stable text.
    return (type(v).__name__, v)


class NotALiteral(ValueError):
    """The text is not a Python literal kodeio accepts."""


def parse_literal(text: str) -> Any:
    """Parse a Python literal (plus float('nan'/'inf'), set(), frozenset({...})). Never evals.

    Text from a job is hostile: whatever it is (100,000 unary minus signs, deep nesting,
    a huge integer), this raises NotALiteral and nothing else."""
    return _guarded(lambda: _convert(_parse(text.strip())))


def _parse(source: str) -> ast.expr:
    try:
        return ast.parse(source, mode="eval").body
    except SyntaxError as exc:
        raise NotALiteral(f"not Python syntax: {exc.msg}") from None


def _guarded(work: Any) -> Any:
    # The parser reports "too complex" input as MemoryError (its own stack, not the heap) or
    # RecursionError, and int() of a 5,000-digit literal as ValueError: all are NotALiteral.
    try:
        return work()
    except NotALiteral:
        raise
    except (MemoryError, RecursionError, ValueError, TypeError, OverflowError) as exc:
        raise NotALiteral(f"not a literal kodeio reads ({type(exc).__name__})") from None


def _convert(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(_convert(e) for e in node.elts)
    if isinstance(node, ast.List):
        return [_convert(e) for e in node.elts]
    if isinstance(node, ast.Set):
        return {_convert(e) for e in node.elts}
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotALiteral("dict unpacking (**) is not a literal")
        return {_convert(k): _convert(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _convert(node.operand)
        if not isinstance(operand, int | float | complex) or isinstance(operand, bool):
            raise NotALiteral("unary sign on a non-number")
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        left, right = _convert(node.left), _convert(node.right)
        if isinstance(left, int | float) and isinstance(right, complex):
            return left + right if isinstance(node.op, ast.Add) else left - right
        raise NotALiteral("arithmetic is not a literal")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name, args = node.func.id, node.args
        if (
            name == "float"
            and len(args) == 1
            and isinstance(args[0], ast.Constant)
            and isinstance(args[0].value, str)
        ):
            word = args[0].value.strip().lower()
            if word.lstrip("+") in _FLOAT_WORDS or word in _FLOAT_WORDS:
                return _FLOAT_WORDS.get(word, _FLOAT_WORDS.get(word.lstrip("+")))
        if name == "set" and not args:
            return set()
        if name == "frozenset" and len(args) <= 1:
            return frozenset(_convert(args[0])) if args else frozenset()
        if name == "complex" and len(args) == 2:
            return complex(_convert(args[0]), _convert(args[1]))
    raise NotALiteral(f"{type(node).__name__} is not a literal")


def parse_call_args(text: str) -> tuple[list[Any], dict[str, Any]]:
    """`"[1, 2], key='x'"` -> ([[1, 2]], {"key": "x"}); literals only, parsed with ast."""
    return _guarded(lambda: _call_args(text))


def _call_args(text: str) -> tuple[list[Any], dict[str, Any]]:
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError as exc:
        raise NotALiteral(f"not valid call arguments: {exc.msg}") from None
    if not isinstance(call, ast.Call):
        raise NotALiteral("not valid call arguments")
    args: list[Any] = []
    for a in call.args:
        if isinstance(a, ast.Starred):
            raise NotALiteral("*args unpacking is not supported")
        args.append(_convert(a))
    kwargs: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise NotALiteral("**kwargs unpacking is not supported")
        kwargs[kw.arg] = _convert(kw.value)
    return args, kwargs


def format_call_args(args: list[Any], kwargs: dict[str, Any]) -> str:
    """The inverse of `parse_call_args`."""
    parts = [literal_repr(a) for a in args] + [f"{k}={literal_repr(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def to_json_lossless(value: Any, _depth: int = 0) -> tuple[bool, Any]:
    """(True, value) when `value` is exactly a JSON value (finite floats, str-keyed dicts)."""
    if _depth > 200:
        return False, None
    if value is None or isinstance(value, bool | str):
        return True, value
    if isinstance(value, int):
        return True, value
    if isinstance(value, float):
        return (True, value) if math.isfinite(value) else (False, None)
    if type(value) is list:
        out = []
        for v in value:
            ok, j = to_json_lossless(v, _depth + 1)
            if not ok:
                return False, None
            out.append(j)
        return True, out
    if type(value) is dict:
        outd = {}
        for k, v in value.items():
            if not isinstance(k, str):
                return False, None
            ok, j = to_json_lossless(v, _depth + 1)
            if not ok:
                return False, None
            outd[k] = j
        return True, outd
    return False, None
