"""Prediction rows (JSONL) to VerifyItems, for the three layouts `kodeio verify` reads.

- `kodeio`: `id, code, entry, mode, input, output, prediction`; optional `policy`
  ("json" default, "python", "python_eq"), `output_repr` (Python literal of the output),
  `prediction_is_answer`, `seed`, `cruxeval_rules`.
- `codeio`: CodeI/O's names: `refcode` (or `code`), `funcname` (default `main_solution`),
  `input` (keyword arguments) and `output` (or an `io` object holding both), `mode`
  (`output`/`input`, or `output_pred`/`input_pred`), and the model's text in `prediction`
  (or `response`/`completion`). JSON values; CodeI/O's import prelude runs first.
- `cruxeval`: `id, code, input, output, prediction` as Python source, CRUXEval's way:
  `input` is call arguments, `output` a literal, `prediction` the post-processed answer
  (`f(...)` for input mode, a literal for output mode). Judged with Python `==` and
  CRUXEval's rules (an input prediction must call `f`; an output prediction holding the
  call `f(<input>)` is wrong).

Every problem is one line naming the file, line and key.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.sandbox.values import parse_literal
from kodeio.synth.verify.engine import MODES, VerifyItem
from kodeio.synth.verify.judge import POLICIES
from kodeio.synth.verify.values import PARSE_ERRORS

_CODEIO_MODES = {
    "output": "output",
    "input": "input",
    "output_pred": "output",
    "input_pred": "input",
}


@cache
def codeio_prelude() -> str:
    """The imports CodeI/O's reference functions assume (numpy as np, math, Counter, ...)."""
    text = resources.files("kodeio.synth.verify").joinpath("codeio_prelude.py.txt").read_text()
    return text.rstrip("\n") + "\n\n"


def item_from_row(
    path: Path, lineno: int, row: dict[str, Any], fmt: str, mode: str | None = None
) -> VerifyItem:
    where = f"{path}:{lineno}"
    if fmt == "kodeio":
        return _kodeio_item(where, row, mode)
    if fmt == "codeio":
        return _codeio_item(where, path, lineno, row, mode)
    if fmt == "cruxeval":
        return _cruxeval_item(where, row, mode)
    raise InputError(f"{where}: unknown format {fmt!r}; expected kodeio, codeio or cruxeval")


def _kodeio_item(where: str, row: dict[str, Any], mode: str | None) -> VerifyItem:
    _require(where, row, ("id", "code", "entry", "prediction"))
    policy = row.get("policy", "json")
    if policy not in POLICIES:
        raise InputError(f"{where}: 'policy' must be one of {', '.join(POLICIES)}, got {policy!r}")
    output_repr = row.get("output_repr")
    if "output" not in row and output_repr is None:
        raise InputError(f"{where}: missing key 'output' (or 'output_repr')")
    if output_repr is not None:
        _literal(where, "output_repr", output_repr)
    return VerifyItem(
        id=str(row["id"]),
        code=_text(where, row, "code"),
        entry=_text(where, row, "entry"),
        mode=_mode(where, row.get("mode"), mode),
        input=_input(where, row.get("input")),
        output=row.get("output"),
        prediction=_text(where, row, "prediction", empty_ok=True),
        policy=policy,
        prediction_is_answer=_flag(where, row, "prediction_is_answer"),
        output_repr=output_repr,
        seed=_int(where, row, "seed"),
        cruxeval_rules=_flag(where, row, "cruxeval_rules"),
    )


def _codeio_item(
    where: str, path: Path, lineno: int, row: dict[str, Any], mode: str | None
) -> VerifyItem:
    code_key = "refcode" if "refcode" in row else "code"
    _require(where, row, (code_key,))
    io = row.get("io")
    if io is not None and not isinstance(io, dict):
        raise InputError(f"{where}: 'io' must be an object with 'input' and 'output'")
    src = io if io is not None else row
    if "output" not in src:
        raise InputError(f"{where}: missing key 'output' (or 'io.output')")
    kwargs = src.get("input")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise InputError(f"{where}: 'input' must be an object of keyword arguments")
    pred_key = next((k for k in ("prediction", "response", "completion") if k in row), None)
    if pred_key is None:
        raise InputError(f"{where}: missing key 'prediction' (or 'response' / 'completion')")
    raw_mode = row.get("mode")
    if raw_mode is not None and raw_mode not in _CODEIO_MODES:
        raise InputError(
            f"{where}: 'mode' must be output, input, output_pred or input_pred, got {raw_mode!r}"
        )
    entry = row.get("funcname") or row.get("entry") or "main_solution"
    if not isinstance(entry, str):
        raise InputError(f"{where}: 'funcname' must be a string")
    return VerifyItem(
        id=str(row.get("id", f"{path.stem}:{lineno}")),
        code=codeio_prelude() + _text(where, row, code_key),
        entry=entry,
        mode=_mode(where, _CODEIO_MODES.get(raw_mode) if raw_mode else None, mode),
        input={"args": [], "kwargs": kwargs} if kwargs is not None else None,
        output=src["output"],
        prediction=_text(where, row, pred_key, empty_ok=True),
        policy="json",
    )


def _cruxeval_item(where: str, row: dict[str, Any], mode: str | None) -> VerifyItem:
    _require(where, row, ("id", "code", "input", "output", "prediction"))
    output_src = _text(where, row, "output")
    _literal(where, "output", output_src)
    return VerifyItem(
        id=str(row["id"]),
        code=_text(where, row, "code"),
        entry=row.get("entry") or "f",
        mode=_mode(where, row.get("mode"), mode),
        input=_text(where, row, "input", empty_ok=True),
        output=None,
        output_repr=output_src,
        prediction=_text(where, row, "prediction", empty_ok=True),
        policy="python_eq",
        prediction_is_answer=bool(row.get("prediction_is_answer", True)),
        cruxeval_rules=True,
    )


# ---- field checks ----------------------------------------------------------------------


def _require(where: str, row: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key not in row:
            raise InputError(f"{where}: missing key '{key}'")


def _text(where: str, row: dict[str, Any], key: str, empty_ok: bool = False) -> str:
    value = row.get(key)
    if value is None and empty_ok:
        return ""
    if not isinstance(value, str) or (not value and not empty_ok):
        raise InputError(f"{where}: '{key}' must be a non-empty string")
    return value


def _mode(where: str, value: Any, default: str | None) -> Any:
    chosen = value if value is not None else default
    if chosen is None:
        raise InputError(f"{where}: missing key 'mode' (output or input); or pass --mode")
    if chosen not in MODES:
        raise InputError(f"{where}: 'mode' must be 'output' or 'input', got {chosen!r}")
    return chosen


def _input(where: str, value: Any) -> dict[str, Any] | str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value
    raise InputError(
        f'{where}: \'input\' must be {{"args": [...], "kwargs": {{...}}}}, call-arguments source or null'
    )


def _literal(where: str, key: str, text: Any) -> None:
    if not isinstance(text, str):
        raise InputError(f"{where}: '{key}' must be a string of Python literal source")
    try:
        parse_literal(text)
    except PARSE_ERRORS:
        raise InputError(f"{where}: '{key}' is not a Python literal: {text[:60]!r}") from None


def _flag(where: str, row: dict[str, Any], key: str) -> bool:
    value = row.get(key, False)
    if not isinstance(value, bool):
        raise InputError(f"{where}: '{key}' must be true or false")
    return value


def _int(where: str, row: dict[str, Any], key: str) -> int:
    value = row.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"{where}: '{key}' must be an integer")
    return value
