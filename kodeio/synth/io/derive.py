"""Inputs for functions that come with none: hypothesis strategies from the signature.

The strategy for each parameter comes from, in order: its type hint, its default value,
its name (`n` -> a small non-negative int, `nums` -> a list of ints, `s` -> a short string).
Hints are read from the `ast`, never evaluated, because seed code is untrusted and runs only
in the sandbox. Everything is size-bounded so the pairs pass CodeI/O's size filters.

Determinism: examples are drawn by running a `@given` probe under `@seed(n)` with the
database off, only the generate phase, no deadline and no health checks. Hypothesis then
replays the same choice sequence for the same seed, strategy and hypothesis version, so the
same seed gives the same inputs in every run and process (checked by the tests across
PYTHONHASHSEED values). The probe collects up to `examples` distinct inputs; `k` of them
are picked at evenly spaced positions, which keeps the simplest one (hypothesis starts
from minimal values) and spreads the rest.
"""

from __future__ import annotations

import ast
import contextlib
import string
import threading
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from kodeio.sandbox.values import format_call_args

Strategy = st.SearchStrategy[Any]

MAX_LIST = 8
MAX_DICT = 5
MAX_TEXT = 12
MAX_DEPTH = 3
TEXT_ALPHABET = string.ascii_letters + string.digits + " .,-"
WORD_ALPHABET = string.ascii_lowercase


_PATCH_LOCK = threading.Lock()


class NoStrategy(Exception):
    """A parameter whose hint, default and name all say nothing usable."""


def small_ints() -> Strategy:
    return st.integers(min_value=-1000, max_value=1000)


def counts() -> Strategy:
    # Sizes, indices and loop bounds: non-negative and small, so exponential code terminates.
    return st.integers(min_value=0, max_value=20)


def decimals(lo: int = -100_000, hi: int = 100_000) -> Strategy:
    # Two-decimal floats read like CodeI/O's inputs and keep reprs short (no 0.1000000149...).
    return st.integers(min_value=lo, max_value=hi).map(lambda v: v / 100)


def texts() -> Strategy:
    return st.text(alphabet=TEXT_ALPHABET, max_size=MAX_TEXT)


def words() -> Strategy:
    return st.text(alphabet=WORD_ALPHABET, min_size=1, max_size=MAX_TEXT)


# Parameter names that say what they hold: exact names first, then prefixes and suffixes.
NAME_KINDS: dict[str, set[str]] = {
    "count": {"n", "k", "m", "i", "j", "count", "size", "length", "idx", "index", "num", "steps", "depth", "level", "width", "height", "rows", "cols", "row", "col", "times", "limit", "base", "power", "exp", "digits", "start", "end", "stop", "step", "target", "x", "y", "z", "a", "b", "c", "p", "q", "r", "val", "value", "number", "year", "month", "day", "amount", "total"},
    "word": {"s", "t", "string", "text", "word", "name", "sentence", "pattern", "prefix", "suffix", "sub", "substring", "key", "label", "char", "ch", "letter", "code", "message", "msg", "password", "email", "s1", "s2", "word1", "word2"},
    "int_list": {"nums", "numbers", "arr", "array", "lst", "list", "items", "values", "xs", "ys", "data", "seq", "sequence", "elements", "heights", "prices", "scores", "weights", "costs", "nums1", "nums2", "arr1", "arr2", "a_list", "l"},
    "word_list": {"words", "strings", "strs", "names", "tokens", "sentences", "keys"},
    "matrix": {"matrix", "grid", "board", "mat", "table"},
    "str_dict": {"d", "dct", "dict", "mapping", "freq", "config", "params"},
    "bool": {"flag", "reverse", "verbose", "strict", "inclusive", "recursive", "ignore_case", "case_sensitive"},
    "unit": {"prob", "probability", "rate", "ratio", "alpha", "beta", "gamma", "threshold", "fraction", "percent", "tolerance", "tol", "eps", "epsilon", "weight"},
    "decimal": {"f", "fx", "temperature", "temp", "price", "mean", "std", "sigma", "mu", "radius", "angle", "theta", "velocity", "mass", "distance", "time", "interest", "principal", "balance", "score", "lat", "lon", "latitude", "longitude"},
    "point": {"point", "pair", "coord", "coords", "position", "pos"},
    "pairs": {"points", "pairs", "edges", "intervals"},
}  # fmt: skip
NAME_PREFIXES: list[tuple[tuple[str, ...], str]] = [
    (("is_", "has_", "use_", "allow_", "should_", "enable_"), "bool"),
    (("num_", "n_", "max_", "min_", "count_", "len_", "number_of_"), "count"),
]
NAME_SUFFIXES: list[tuple[tuple[str, ...], str]] = [
    (("_count", "_size", "_len", "_length", "_index", "_idx", "_num", "_id"), "count"),
    (("_list", "_nums", "_array", "_values"), "int_list"),
    (("_str", "_string", "_name", "_text", "_word", "_char"), "word"),
    (("_rate", "_prob", "_ratio"), "unit"),
    (("_flag",), "bool"),
]
KIND_STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "count": counts,
    "word": words,
    "int_list": lambda: st.lists(small_ints(), max_size=MAX_LIST),
    "word_list": lambda: st.lists(words(), max_size=MAX_LIST),
    # Rectangular, small, single digits: grids that CodeI/O-style puzzles expect.
    "matrix": lambda: st.integers(1, 4).flatmap(
        lambda w: st.lists(
            st.lists(st.integers(-9, 9), min_size=w, max_size=w), min_size=1, max_size=4
        )
    ),
    "str_dict": lambda: st.dictionaries(words(), small_ints(), max_size=MAX_DICT),
    "bool": st.booleans,
    "unit": lambda: decimals(0, 100),
    "decimal": decimals,
    "point": lambda: st.tuples(st.integers(-50, 50), st.integers(-50, 50)),
    "pairs": lambda: st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), max_size=MAX_LIST),
}


def name_kind(name: str) -> str | None:
    lowered = name.lower()
    for kind, names in NAME_KINDS.items():
        if lowered in names:
            return kind
    for prefixes, kind in NAME_PREFIXES:
        if lowered.startswith(prefixes):
            return kind
    for suffixes, kind in NAME_SUFFIXES:
        if lowered.endswith(suffixes):
            return kind
    return None


def strategy_for_name(name: str) -> Strategy | None:
    kind = name_kind(name)
    return KIND_STRATEGIES[kind]() if kind else None


# ---- type hints ---------------------------------------------------------------------------

_SEQ = {
    "list",
    "List",
    "Sequence",
    "MutableSequence",
    "Iterable",
    "Collection",
    "Iterator",
    "Deque",
    "deque",
}
_SET = {"set", "Set", "MutableSet", "AbstractSet"}
_FROZEN = {"frozenset", "FrozenSet"}
_MAP = {"dict", "Dict", "Mapping", "MutableMapping", "DefaultDict", "OrderedDict", "Counter"}
_TUPLE = {"tuple", "Tuple"}


def _hint_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):  # typing.List, collections.abc.Sequence, np.ndarray
        return node.attr
    return None


def _first(*candidates: Strategy | None) -> Strategy | None:
    # Strategies must not be tested for truth (hypothesis warns), so no `a or b`.
    for candidate in candidates:
        if candidate is not None:
            return candidate
    return None


def _hashable(strategy: Strategy) -> Strategy:
    # Set members and dict keys must be hashable; lists drawn inside them become tuples.
    return strategy.map(lambda v: tuple(v) if isinstance(v, list) else v)


def strategy_for_hint(node: ast.AST | None, name: str, depth: int = 0) -> Strategy | None:
    """A strategy for the annotation `node` of parameter `name`; None when unknown."""
    if node is None or depth > MAX_DEPTH:
        return None
    if isinstance(node, ast.Constant):
        if node.value is None:
            return st.none()
        if isinstance(node.value, str):  # a string (forward-reference) annotation
            try:
                inner = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
            return strategy_for_hint(inner, name, depth)
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | Y
        left = strategy_for_hint(node.left, name, depth + 1)
        right = strategy_for_hint(node.right, name, depth + 1)
        parts = [s for s in (left, right) if s is not None]
        return st.one_of(*parts) if parts else None
    head = _hint_name(node.value) if isinstance(node, ast.Subscript) else _hint_name(node)
    if head is None:
        return None
    if not isinstance(node, ast.Subscript):
        return _bare_hint(head, name)
    elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    sub = [strategy_for_hint(e, name, depth + 1) for e in elts]
    if head in _SEQ:
        return st.lists(_first(sub[0], small_ints()), max_size=MAX_LIST)
    if head in _SET | _FROZEN:
        members = st.sets(_hashable(_first(sub[0], small_ints())), max_size=MAX_LIST)
        return members.map(frozenset) if head in _FROZEN else members
    if head in _MAP:
        key = sub[0] if sub and sub[0] is not None else words()
        value = sub[1] if len(sub) > 1 and sub[1] is not None else small_ints()
        return st.dictionaries(_hashable(key), value, max_size=MAX_DICT)
    if head in _TUPLE:
        if len(elts) == 2 and isinstance(elts[1], ast.Constant) and elts[1].value is Ellipsis:
            return st.lists(_first(sub[0], small_ints()), max_size=MAX_LIST).map(tuple)
        if any(s is None for s in sub):
            return None
        return st.tuples(*sub)  # type: ignore[arg-type]
    if head == "Optional":
        return st.one_of(st.none(), sub[0]) if sub[0] is not None else None
    if head == "Union":
        parts = [s for s in sub if s is not None]
        return st.one_of(*parts) if parts else None
    if head == "Literal":
        values = [e.value for e in elts if isinstance(e, ast.Constant)]
        return st.sampled_from(values) if values else None
    if head == "Annotated":
        return sub[0]
    return None


def _bare_hint(head: str, name: str) -> Strategy | None:
    kind = name_kind(name)
    if head == "int":
        return counts() if kind == "count" else small_ints()
    if head == "float":
        return decimals(0, 100) if kind == "unit" else decimals()
    if head == "str":
        return words() if kind == "word" else texts()
    if head == "bool":
        return st.booleans()
    if head == "bytes":
        return st.binary(max_size=MAX_TEXT)
    if head == "complex":
        return st.builds(complex, st.integers(-9, 9), st.integers(-9, 9))
    if head in _SEQ:
        return (
            strategy_for_name(name)
            if kind in {"int_list", "word_list", "matrix", "pairs"}
            else st.lists(small_ints(), max_size=MAX_LIST)
        )
    if head in _SET:
        return st.sets(small_ints(), max_size=MAX_LIST)
    if head in _MAP:
        return st.dictionaries(words(), small_ints(), max_size=MAX_DICT)
    if head in _TUPLE:
        return (
            strategy_for_name(name)
            if kind == "point"
            else st.lists(small_ints(), max_size=MAX_LIST).map(tuple)
        )
    if head in {"Any", "object"}:
        return _first(strategy_for_name(name), st.one_of(small_ints(), words()))
    if head == "None":
        return st.none()
    return None


# ---- defaults -----------------------------------------------------------------------------


def strategy_for_default(node: ast.AST | None, name: str) -> Strategy | None:
    """A strategy of the default's type, that also tries the default itself."""
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    like = _like(value, name)
    return st.one_of(st.just(value), like) if like is not None else st.just(value)


def _like(value: Any, name: str) -> Strategy | None:
    if value is None:
        return strategy_for_name(name)
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return counts() if value >= 0 else small_ints()
    if isinstance(value, float):
        return decimals()
    if isinstance(value, str):
        return words() if value else texts()
    if isinstance(value, list | tuple | set):
        inner = _like(next(iter(value)), name) if value else small_ints()
        if inner is None:
            return None
        if isinstance(value, set):
            return st.sets(_hashable(inner), max_size=MAX_LIST)
        lists = st.lists(inner, max_size=MAX_LIST)
        return lists.map(tuple) if isinstance(value, tuple) else lists
    if isinstance(value, dict):
        return st.dictionaries(words(), small_ints(), max_size=MAX_DICT)
    return None


# ---- the signature ------------------------------------------------------------------------


def find_function(code: str, entry: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry:
            return node
    return None


def signature_strategy(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Strategy:
    """Draws (args tuple, kwargs dict). Positional-only parameters go in args, the rest by name."""
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    pos_defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(
        a.defaults
    )
    args: list[Strategy] = []
    kwargs: dict[str, Strategy] = {}
    params = [
        (p, d, i < len(a.posonlyargs))
        for i, (p, d) in enumerate(zip(positional, pos_defaults, strict=True))
    ]
    params += [(p, d, False) for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]
    for param, default, positional_only in params:
        if param.arg in {"self", "cls"}:
            raise NoStrategy(f"parameter {param.arg!r}: a method, not a function")
        strategy = _first(
            strategy_for_hint(param.annotation, param.arg),
            strategy_for_default(default, param.arg),
            strategy_for_name(param.arg),
        )
        if strategy is None:
            raise NoStrategy(
                f"parameter {param.arg!r} has no type hint, literal default or known name"
            )
        if positional_only:
            args.append(strategy)
        else:
            kwargs[param.arg] = strategy
    return st.tuples(st.tuples(*args), st.fixed_dictionaries(kwargs))


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Hide the "local constants" hypothesis mixes into draws.

    Hypothesis (6.13x+) sometimes draws literals harvested from every non-site-packages
    module in `sys.modules`, so the inputs would depend on which modules happen to be
    imported (a test run differs from the CLI). The fixed global constant pool stays.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a hypothesis without the feature
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if original is None or cache is None:  # pragma: no cover
        yield
        return
    empty = providers.Constants()
    with _PATCH_LOCK:
        providers._get_local_constants = lambda: empty
        cache.cache.clear()
        try:
            yield
        finally:
            providers._get_local_constants = original
            cache.cache.clear()


def derive_inputs(code: str, entry: str, k: int, rng_seed: int, examples: int = 24) -> list[str]:
    """Up to `k` distinct inputs as call-argument source (`format_call_args`), deterministically.

    Raises NoStrategy when a parameter cannot be drawn for.
    """
    fn = find_function(code, entry)
    if fn is None:
        raise NoStrategy(f"no top-level function {entry!r} with a signature to read")
    strategy = signature_strategy(fn)
    names = [p.arg for p in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)]
    seen: dict[str, None] = {}

    @settings(
        database=None,
        max_examples=examples,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        derandomize=False,
        print_blob=False,
    )
    @hypothesis_seed(rng_seed)
    @given(strategy)
    def probe(drawn: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
        args, kwargs = drawn
        ordered = {name: kwargs[name] for name in names if name in kwargs}  # signature order
        text = format_call_args(list(args), ordered)
        seen.setdefault(text, None)

    try:
        with _no_local_constants():
            probe()
    except HypothesisException:
        pass  # e.g. Unsatisfiable: keep what was drawn
    distinct = list(seen)
    if len(distinct) <= k:
        return distinct
    # Evenly spaced picks: the first (simplest) example plus a spread of the others.
    return [distinct[(i * len(distinct)) // k] for i in range(k)]


def derive_task(task: tuple[str, str, int, int, int]) -> tuple[list[str] | None, str | None]:
    """(inputs, None) or (None, why not): `derive_inputs` as a picklable worker task."""
    code, entry, k, rng_seed, examples = task
    try:
        return derive_inputs(code, entry, k, rng_seed, examples), None
    except NoStrategy as exc:
        return None, str(exc)


__all__ = ["NoStrategy", "derive_inputs", "derive_task", "signature_strategy"]
