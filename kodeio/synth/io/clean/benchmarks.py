"""Readers for the benchmarks seeds are cleaned against: each yields `BenchItem`s.

A benchmark is a file (or `hf:NAME[:SPLIT]`); the reader is chosen from the first row's keys:

- CRUXEval JSONL             `code`, `input` (call arguments), `output`        (id: `id`)
- LiveCodeBench execution    `code`, `function_name`, `input` (a call), `output`
- HumanEval-style JSONL      `prompt` + `canonical_solution`                   (`task_id`)
- MBPP-style JSONL           `code` with `task_id` (and `text` / `test_list`)
- kodeio I/O pairs           `seed_id`, `code`, `entry`, `input`, `output`     (one item per seed)
- kodeio seed or CodeI/O JSONL (the seed readers), and `.py` files or directories

An item is one benchmark function: its code, and the (call, result) pairs the benchmark
records for it as canonical keys (`call_key`). A row that cannot be read stops the run with
one line naming the file and row; so does benchmark code that does not parse, since a
function that cannot be normalised cannot be matched and would pass unseen.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.files import iter_jsonl
from kodeio.synth.io.seed import Seed
from kodeio.synth.io.seeds.readers import ROW_PARSERS, detect_row_format, read_seeds


@dataclass(frozen=True)
class BenchItem:
    source: str  # the benchmark's name: file stem or hf:NAME
    id: str
    code: str
    calls: tuple[str, ...] = ()  # call_key of each recorded (call, result)
    where: str = ""  # file:line, for messages


# ---- (call, result) keys ---------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Tuples as lists and sets as sorted lists, so JSON and Python literals compare equal."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def call_key(args: Iterable[Any], kwargs: dict[str, Any], result: Any) -> str:
    """One canonical text for a call and its result (the function's name left out)."""
    data = [_plain(list(args)), _plain(dict(sorted(kwargs.items()))), _plain(result)]
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=repr)


def literal(text: str) -> Any:
    """A Python literal's value; the text itself when it is not one."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_call(text: str, function: str | None = None) -> tuple[list[Any], dict[str, Any]] | None:
    """Arguments of `name(...)` when `text` is one call, else of `f(text)`; None when the
    arguments are not literals."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and (function is None or node.func.id == function)
        ):
            node = ast.parse(f"f({text})", mode="eval").body
        assert isinstance(node, ast.Call)
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return args, kwargs


def seed_calls(seed: Seed) -> tuple[str, ...]:
    """call_key of each seed input whose result the seed records (CRUXEval, CodeI/O)."""
    keys: list[str] = []
    for given, reference in zip(seed.inputs, seed.reference_outputs, strict=False):
        if reference is None:
            continue
        call = parse_call(given) if isinstance(given, str) else (given["args"], given["kwargs"])
        if call is None:
            continue
        kind, value = reference
        keys.append(call_key(*call, literal(value) if kind == "repr" else value))
    return tuple(keys)


# ---- row readers --------------------------------------------------------------------------


def _text(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str):
        got = "missing" if value is None else f"a {type(value).__name__}"
        raise InputError(f"{where}: '{key}' must be a string of Python source, got {got}")
    return value


def _id(row: dict[str, Any], keys: tuple[str, ...], default: str) -> str:
    for key in keys:
        if row.get(key) is not None:
            return str(row[key])
    return default


def _execution_item(row: dict[str, Any], source: str, where: str, default: str) -> BenchItem:
    """CRUXEval and LiveCodeBench code execution: code, the call, its printed result."""
    code = _text(row, "code", where)
    given, output = row.get("input"), row.get("output")
    calls: tuple[str, ...] = ()
    if isinstance(given, str) and output is not None:
        call = parse_call(given, row.get("function_name"))
        result = literal(output) if isinstance(output, str) else output
        if call is not None:
            calls = (call_key(*call, result),)
    item_id = _id(row, ("id", "question_id", "task_id"), default)
    return BenchItem(source, item_id, code, calls, where)


def _pair_item(row: dict[str, Any], source: str, where: str, default: str) -> BenchItem:
    code = _text(row, "code", where)
    call: tuple[list[Any], dict[str, Any]] | None = None
    given = row.get("input")
    if isinstance(given, dict):
        call = (list(given.get("args") or []), dict(given.get("kwargs") or {}))
    elif isinstance(row.get("input_repr"), str):
        call = parse_call(row["input_repr"], row.get("entry"))
    if row.get("output") is not None:
        result = row["output"]
    else:
        result = literal(row["output_repr"]) if isinstance(row.get("output_repr"), str) else None
    calls = (call_key(*call, result),) if call is not None and result is not None else ()
    return BenchItem(source, str(row.get("seed_id") or default), code, calls, where)


def row_kind(row: dict[str, Any]) -> str | None:
    keys = set(row)
    if {"prompt", "canonical_solution"} <= keys:
        return "humaneval"
    if {"code", "function_name", "input", "output"} <= keys:
        return "livecodebench"
    if {"seed_id", "code", "entry"} <= keys and ("output" in keys or "output_repr" in keys):
        return "pairs"
    if {"code", "task_id"} <= keys and ("test_list" in keys or "text" in keys):
        return "mbpp"
    return detect_row_format(row)  # cruxeval, kodeio, codeio seeds


def row_item(kind: str, row: dict[str, Any], source: str, where: str, default: str) -> BenchItem:
    if kind == "humaneval":
        code = _text(row, "prompt", where) + _text(row, "canonical_solution", where)
        return BenchItem(source, _id(row, ("task_id", "id"), default), code, (), where)
    if kind == "mbpp":
        code = _text(row, "code", where)
        return BenchItem(source, _id(row, ("task_id", "id"), default), code, (), where)
    if kind in ("livecodebench", "cruxeval"):
        return _execution_item(row, source, where, default)
    if kind == "pairs":
        return _pair_item(row, source, where, default)
    seed = ROW_PARSERS[kind](row, where, default)
    return BenchItem(source, seed.id, seed.code, seed_calls(seed), where)


def _rows_items(
    rows: Iterable[tuple[str, dict[str, Any]]], source: str, stem: str
) -> Iterator[BenchItem]:
    kind: str | None = None
    for index, (where, row) in enumerate(rows, 1):
        if kind is None:
            kind = row_kind(row)
            if kind is None:
                keys = ", ".join(sorted(row)[:8])
                raise InputError(
                    f"{where}: cannot tell the benchmark format from keys ({keys}); expected "
                    "CRUXEval (code, input, output), LiveCodeBench (code, function_name, input, "
                    "output), HumanEval (prompt, canonical_solution), MBPP (task_id, code), "
                    "kodeio seeds or I/O pairs"
                )
        yield row_item(kind, row, source, where, f"{stem}#{index}")


def read_benchmark(spec: str) -> Iterator[BenchItem]:
    """Every function of one benchmark, in file order (I/O pair rows: one item per seed)."""
    if spec.startswith("hf:"):
        items = _hf_items(spec)
    else:
        path = Path(spec)
        if not path.exists():
            raise InputError(f"{path}: benchmark file not found")
        if path.is_dir() or path.suffix == ".py":
            items = _python_items(path)
        else:
            rows = ((f"{path}:{n}", row) for n, row in iter_jsonl(path))
            items = _rows_items(rows, path.stem, path.stem)
    return _merged(items)


def _python_items(path: Path) -> Iterator[BenchItem]:
    for seed in read_seeds([path], "py"):
        assert isinstance(seed, Seed)
        yield BenchItem(path.stem, seed.id, seed.code, (), seed.source)


def _merged(items: Iterable[BenchItem]) -> Iterator[BenchItem]:
    """Rows of one function in a row (I/O pairs) become one item holding all their calls."""
    current: BenchItem | None = None
    for item in items:
        if current is not None and item.id == current.id and item.code == current.code:
            current = BenchItem(
                current.source, current.id, current.code, current.calls + item.calls, current.where
            )
            continue
        if current is not None:
            yield current
        current = item
    if current is not None:
        yield current


def _hf_items(spec: str) -> Iterator[BenchItem]:
    """`hf:NAME[:SPLIT]` through `datasets` (the Hub when it is reachable, else its cache)."""
    name, _, split = spec[3:].partition(":")
    split = split or "test"
    if not name:
        raise InputError(f"--against {spec}: expected hf:NAME or hf:NAME:SPLIT")
    try:
        import datasets

        data = datasets.load_dataset(name, split=split)
    except ImportError:
        raise InputError(f"--against {spec}: needs the `datasets` package") from None
    except Exception as exc:  # the Hub, the cache and the loader all fail in their own ways
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(
            f"--against {spec}: cannot load it ({first}); download it where the Hub is "
            "reachable, or pass the benchmark as a JSONL file"
        ) from None
    stem = name.rstrip("/").rsplit("/", 1)[-1]
    rows = ((f"{spec}:{n}", dict(row)) for n, row in enumerate(data, 1))
    yield from _rows_items(rows, spec, stem)
