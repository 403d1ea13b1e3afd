"""Is a predicted value the expected one? Recursive value comparison under a policy.

Policies:
- `json`       seeds whose values are JSON (CodeI/O). Both sides are JSON-normalized first:
               tuples become lists and dict keys become the strings `json.dumps` writes
               (`1` -> "1", `True` -> "true"). Numbers compare as numbers (1 == 1.0, floats
               within tolerance); booleans are not numbers.
- `python`     seeds with Python-literal values. Types must match exactly (1 != 1.0,
               True != 1, (1,) != [1]); floats (and complex parts) within tolerance.
- `python_eq`  plain Python `==`, no tolerance: what CRUXEval's `assert out == pred` does.

Under `json` and `python`, floats are equal within `rel_tol` (relative, default 1e-6) or
`abs_tol` (absolute, default 0); NaN equals NaN; +inf and -inf only equal themselves.
Dict keys and set elements are compared exactly.

No exception is swallowed here. The CodeI/O release judged every float output wrong
because its `is_close` used `math` without importing it and a bare `except` turned the
NameError into False; a comparison that cannot run must fail loudly instead.
"""

from __future__ import annotations

import math
from typing import Any, Literal

Policy = Literal["json", "python", "python_eq"]
POLICIES = ("json", "python", "python_eq")


def judge_values(
    predicted: Any,
    expected: Any,
    policy: Policy = "json",
    rel_tol: float = 1e-6,
    abs_tol: float = 0.0,
) -> bool:
    """True when `predicted` is `expected` under `policy` (see the module docstring)."""
    if policy == "json":
        return _equal_json(json_normalize(predicted), json_normalize(expected), rel_tol, abs_tol)
    if policy == "python":
        return _equal_python(predicted, expected, rel_tol, abs_tol)
    if policy == "python_eq":
        return bool(_fresh_nans(predicted) == _fresh_nans(expected))
    raise ValueError(f"unknown value policy {policy!r}; expected one of {', '.join(POLICIES)}")


def floats_close(a: float, b: float, rel_tol: float, abs_tol: float) -> bool:
    """NaN == NaN, infinities exact, finite values within the relative/absolute tolerance."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)


# ---- json ---------------------------------------------------------------------------------


def json_normalize(value: Any, _depth: int = 0) -> Any:
    """The value as `json.loads(json.dumps(value))` would give it back, where that exists.

    Values JSON cannot spell (sets, bytes, complex, tuple keys) are left as they are and
    compared under the python rules (exact types).
    """
    if _depth > 500:
        raise RecursionError("value nested deeper than 500 levels")
    if isinstance(value, list | tuple):
        return [json_normalize(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {_json_key(k): json_normalize(v, _depth + 1) for k, v in value.items()}
    return value


def _json_key(key: Any) -> Any:
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        if math.isnan(key):
            return "NaN"
        if math.isinf(key):
            return "Infinity" if key > 0 else "-Infinity"
        return repr(key)
    return key  # json.dumps refuses these; keep them distinct from every string key


def _equal_json(a: Any, b: Any, rel_tol: float, abs_tol: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return _numbers_close(a, b, rel_tol, abs_tol)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(
            _equal_json(x, y, rel_tol, abs_tol) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        return all(_equal_json(a[k], b[k], rel_tol, abs_tol) for k in a)
    # str, None, and what JSON cannot spell (sets, bytes, complex): the python rules.
    return _equal_python(a, b, rel_tol, abs_tol)


def _numbers_close(a: int | float, b: int | float, rel_tol: float, abs_tol: float) -> bool:
    if isinstance(a, int) and isinstance(b, int):
        return a == b  # big ints stay exact
    try:
        fa, fb = float(a), float(b)
    except OverflowError:  # an int beyond the float range next to a float
        return False
    return floats_close(fa, fb, rel_tol, abs_tol)


# ---- python -------------------------------------------------------------------------------


def _equal_python(a: Any, b: Any, rel_tol: float, abs_tol: float) -> bool:
    t = type(a)
    if t is not type(b):
        return False
    if t is float:
        return floats_close(a, b, rel_tol, abs_tol)
    if t is complex:
        return floats_close(a.real, b.real, rel_tol, abs_tol) and floats_close(
            a.imag, b.imag, rel_tol, abs_tol
        )
    if t is list or t is tuple:
        return len(a) == len(b) and all(
            _equal_python(x, y, rel_tol, abs_tol) for x, y in zip(a, b, strict=True)
        )
    if t is dict:
        if len(a) != len(b):
            return False
        b_keys = {k: k for k in b}  # lookup returns b's own key object, to check its type
        for k, v in a.items():
            if k not in b_keys:
                return False
            kb = b_keys[k]
            if type(kb) is not type(k) or not _equal_python(v, b[kb], rel_tol, abs_tol):
                return False
        return True
    if t is set or t is frozenset:
        return a == b and _typed(a) == _typed(b)
    return bool(a == b)


def _typed(items: set[Any] | frozenset[Any]) -> set[tuple[str, Any]]:
    return {(type(x).__name__, x) for x in items}


# ---- python_eq ----------------------------------------------------------------------------


def _fresh_nans(value: Any, _depth: int = 0) -> Any:
    """Copy with every NaN a distinct object.

    Parsers hand out one shared NaN object, and containers compare items by identity before
    `==`, so `[nan] == [nan]` would be True on the host while CRUXEval's scorer, which
    builds each side separately, sees False.
    """
    if _depth > 500:
        raise RecursionError("value nested deeper than 500 levels")
    if isinstance(value, float) and math.isnan(value):
        return float("nan")
    t = type(value)
    if t is list or t is tuple:
        return t(_fresh_nans(v, _depth + 1) for v in value)
    if t is dict:
        return {k: _fresh_nans(v, _depth + 1) for k, v in value.items()}
    return value
