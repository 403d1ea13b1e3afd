"""The readers for every seed format the I/O stage accepts (the types: `kodeio.synth.io.seed`).

A seed is one function plus (optionally) inputs to call it with, a generator that makes
inputs, and CodeI/O-style descriptions. Readers turn each source format into seeds:

- CodeI/O unified JSONL  (`refcode`, `funcname`, `ios`, ...)            -> format "json"
- CRUXEval JSONL         (`code`, `input` call-args source, `output`)   -> format "python"
- kodeio seed JSONL      (`id`, `code`, `entry`, `inputs`, ...)         -> format "json"
- plain `.py` files / directories (functions found with `ast`)          -> format "python"
- a Hugging Face dataset (any of the above row shapes, or raw code)

`format` is the value policy: "json" seeds take and return JSON values (CodeI/O's
convention, so the synthesis prompts can show them as JSON); "python" seeds may use any
value `kodeio.sandbox.values.parse_literal` reads back (tuples, sets, ...).

Readers never execute seed code; they only parse it with `ast`. Structural problems in a
JSONL file (missing key, wrong type) are the user's input errors and stop the run with one
line naming file, line and key. Problems with the code itself (syntax errors in a corpus
file) are the seed's problem: the seed carries `problem` and the stage records a reject.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.files import iter_jsonl
from kodeio.synth.io.seed import RawCode, Seed, SeedInput
from kodeio.synth.io.seed import ValuePolicy as ValuePolicy  # re-exported with the types

SEED_FORMATS = ("auto", "codeio", "cruxeval", "kodeio", "py")
# Directory walks skip these: virtualenvs, VCS data and caches are not a code corpus.
SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".venv",
    "venv",
    "node_modules",
    ".tox",
    "site-packages",
}


# ---- helpers --------------------------------------------------------------------------------


def _text(value: Any, where: str, key: str, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise InputError(f"{where}: missing key '{key}'")
        return None
    if not isinstance(value, str):
        raise InputError(f"{where}: '{key}' must be a string, got {type(value).__name__}")
    return value


def _optional_text(row: dict[str, Any], key: str, where: str) -> str | None:
    value = row.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | bool):
        return str(value)
    raise InputError(f"{where}: '{key}' must be a string, got {type(value).__name__}")


def _call_input(value: Any, where: str) -> SeedInput:
    """Validate one {"args", "kwargs"} input object."""
    if not isinstance(value, dict) or not set(value) <= {"args", "kwargs"}:
        raise InputError(
            f'{where}: expected {{"args": [...], "kwargs": {{...}}}}, got {_short(value)}'
        )
    args = value.get("args", [])
    kwargs = value.get("kwargs", {})
    if not isinstance(args, list):
        raise InputError(f"{where}: 'args' must be a list, got {type(args).__name__}")
    if not isinstance(kwargs, dict):
        raise InputError(f"{where}: 'kwargs' must be an object, got {type(kwargs).__name__}")
    return {"args": args, "kwargs": kwargs}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code_problem(code: str) -> tuple[str, str] | None:
    """("syntax_error", message) when the code does not parse; None when it does."""
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return "syntax_error", f"line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # e.g. null bytes in source
        return "syntax_error", str(exc)
    return None


def defines_function(code: str, name: str) -> bool:
    """Whether `name` is bound at the top level of `code` (def, class, assignment or import)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.name == name
        ):
            return True
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        if isinstance(node, ast.Import | ast.ImportFrom) and any(
            (a.asname or a.name.split(".")[0]) == name for a in node.names
        ):
            return True
    return False


def with_code_checks(seed: Seed) -> Seed:
    from dataclasses import replace

    problem = code_problem(seed.code)
    if problem:
        return replace(seed, problem=problem[0], problem_detail=problem[1])
    if not defines_function(seed.code, seed.entry):
        return replace(
            seed, problem="no_entry", problem_detail=f"the code defines no top-level {seed.entry!r}"
        )
    return seed


# ---- row parsers (shared by JSONL files and Hugging Face rows) ------------------------------


def codeio_seed(row: dict[str, Any], where: str, default_id: str) -> Seed:
    code = _text(row.get("refcode"), where, "refcode", required=True)
    entry = _text(row.get("funcname"), where, "funcname") or "main_solution"
    ios = row.get("ios") or []
    if not isinstance(ios, list):
        raise InputError(f'{where}: \'ios\' must be a list of {{"input": {{...}}, "output": ...}}')
    inputs: list[SeedInput] = []
    refs: list[tuple[str, Any] | None] = []
    for i, io in enumerate(ios):
        if not isinstance(io, dict) or "input" not in io:
            raise InputError(f"{where}: 'ios[{i}]' must be an object with an 'input' key")
        kwargs = io["input"]
        if not isinstance(kwargs, dict):
            raise InputError(
                f"{where}: 'ios[{i}].input' must be an object of keyword arguments, got {type(kwargs).__name__}"
            )
        inputs.append({"args": [], "kwargs": kwargs})
        refs.append(("json", io["output"]) if "output" in io else None)
    seed_id = row.get("id")
    return with_code_checks(
        Seed(
            id=str(seed_id) if seed_id is not None else default_id,
            code=code or "",
            entry=entry,
            format="json",
            inputs=tuple(inputs),
            input_generator=_optional_text(row, "input_generator", where),
            problem_description=_optional_text(row, "problem_description", where),
            io_requirements=_optional_text(row, "io_requirements", where),
            category=_optional_text(row, "category", where),
            origin="codeio",
            source=where,
            reference_outputs=tuple(refs),
        )
    )


def cruxeval_seed(row: dict[str, Any], where: str, default_id: str) -> Seed:
    code = _text(row.get("code"), where, "code", required=True)
    given = _text(row.get("input"), where, "input", required=True)
    output = row.get("output")
    if output is not None and not isinstance(output, str):
        raise InputError(
            f"{where}: 'output' must be a Python literal as a string, got {type(output).__name__}"
        )
    seed_id = row.get("id")
    entry = _text(row.get("entry"), where, "entry") or "f"
    return with_code_checks(
        Seed(
            id=str(seed_id) if seed_id is not None else default_id,
            code=code or "",
            entry=entry,
            format="python",
            inputs=(given or "",),
            origin="cruxeval",
            source=where,
            reference_outputs=(("repr", output) if output is not None else None,),
        )
    )


def kodeio_seed(row: dict[str, Any], where: str, default_id: str) -> Seed:
    code = _text(row.get("code"), where, "code", required=True)
    entry = _text(row.get("entry"), where, "entry", required=True)
    raw_inputs = row.get("inputs") or []
    if not isinstance(raw_inputs, list):
        raise InputError(
            f'{where}: \'inputs\' must be a list of {{"args": [...], "kwargs": {{...}}}}'
        )
    inputs = tuple(_call_input(v, f"{where}: inputs[{i}]") for i, v in enumerate(raw_inputs))
    description = row.get("description")
    fields = {
        k: _optional_text(row, k, where)
        for k in ("problem_description", "io_requirements", "category")
    }
    if isinstance(description, str):
        fields["problem_description"] = fields["problem_description"] or description
    elif isinstance(description, dict):
        for key in fields:
            if fields[key] is None:
                fields[key] = _optional_text(description, key, f"{where}: description")
    elif description is not None:
        raise InputError(
            f"{where}: 'description' must be a string or an object, got {type(description).__name__}"
        )
    seed_id = row.get("id")
    return with_code_checks(
        Seed(
            id=str(seed_id) if seed_id is not None else default_id,
            code=code or "",
            entry=entry or "",
            format="json",
            inputs=inputs,
            input_generator=_text(row.get("input_generator"), where, "input_generator"),
            origin="kodeio",
            source=where,
            **fields,
        )
    )


ROW_PARSERS = {"codeio": codeio_seed, "cruxeval": cruxeval_seed, "kodeio": kodeio_seed}


def detect_row_format(row: dict[str, Any]) -> str | None:
    """The seed format a JSON row looks like, from its keys; None if none matches."""
    if "refcode" in row:
        return "codeio"
    if "code" in row and "entry" in row:
        return "kodeio"
    if "code" in row and "input" in row and "output" in row:
        return "cruxeval"
    return None


# ---- files ----------------------------------------------------------------------------------


def detect_file_format(path: Path) -> str:
    """codeio / cruxeval / kodeio for JSONL (from the first row's keys), py for Python."""
    if path.is_dir() or path.suffix == ".py":
        return "py"
    for lineno, row in iter_jsonl(path):
        fmt = detect_row_format(row)
        if fmt is None:
            keys = ", ".join(sorted(row)[:8])
            raise InputError(
                f"{path}:{lineno}: cannot tell the seed format from keys ({keys}); expected CodeI/O "
                "(refcode, funcname, ios), CRUXEval (code, input, output) or kodeio (id, code, entry); "
                "or pass --format"
            )
        return fmt
    return "kodeio"  # an empty file: any JSONL reader yields nothing


def read_jsonl_seeds(path: Path, fmt: str) -> Iterator[Seed]:
    parse = ROW_PARSERS[fmt]
    for lineno, row in iter_jsonl(path):
        yield parse(row, f"{path}:{lineno}", f"{path.stem}#{lineno}")


def python_files(path: Path) -> list[Path]:
    """`path` itself, or every .py under a directory in a stable (sorted) order."""
    if path.is_file():
        return [path]
    found: list[Path] = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        found.extend(Path(root) / f for f in sorted(files) if f.endswith(".py"))
    return found


def read_seeds(
    paths: Iterable[str | Path], fmt: str = "auto", raw_python: bool = False
) -> Iterator[Seed | RawCode]:
    """Every seed of every path, in order. `.py` sources yield seeds found by `ast`, or one
    `RawCode` per file when `raw_python` (a `Unifier` will rewrite them)."""
    from kodeio.synth.io.discover import raw_from_python_file, seeds_from_python_file

    if fmt not in SEED_FORMATS:
        raise InputError(f"--format {fmt!r}: expected one of {', '.join(SEED_FORMATS)}")
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{path}: seed file or directory not found")
        file_fmt = detect_file_format(path) if fmt == "auto" else fmt
        if path.is_dir() and file_fmt != "py":
            raise InputError(
                f"{path}: a directory is read as Python sources; --format {fmt} needs a file"
            )
        if file_fmt == "py":
            for py in python_files(path):
                if raw_python:
                    yield raw_from_python_file(py)
                else:
                    yield from seeds_from_python_file(py)
        else:
            yield from read_jsonl_seeds(path, file_fmt)


# ---- Hugging Face datasets --------------------------------------------------------------------


def load_hf_rows(name: str, split: str, config_name: str | None = None) -> Iterator[dict[str, Any]]:
    """Rows of a dataset saved on disk or already in the local cache; never the network."""
    # Offline first: these must be set before `datasets` reads its configuration.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    path = Path(name)
    try:
        if path.is_dir() and (path / "dataset_dict.json").exists():
            loaded = datasets.load_from_disk(str(path))
            if split not in loaded:
                raise InputError(f"{name}: no split {split!r}; splits are {', '.join(loaded)}")
            data = loaded[split]
        elif (
            path.is_dir()
            and (path / "dataset_info.json").exists()
            and (path / "state.json").exists()
        ):
            data = datasets.load_from_disk(str(path))
        else:
            data = datasets.load_dataset(name, config_name, split=split)
    except InputError:
        raise
    except (FileNotFoundError, ValueError, ConnectionError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"--hf-dataset {name} (split {split}): cannot load it offline ({first}); pass a local "
            "path (a save_to_disk folder or a folder of data files) or a dataset already in the cache"
        ) from None
    yield from data


def read_hf_seeds(
    name: str, split: str, code_field: str, raw: bool = False, config_name: str | None = None
) -> Iterator[Seed | RawCode]:
    """Seeds from a dataset. Rows shaped like a known format use that reader (with
    `code_field` read as `code`); other rows are raw code, searched for functions like `.py`."""
    from kodeio.synth.io.discover import candidate_functions, seeds_from_source

    stem = Path(name.rstrip("/")).name or name
    fmt: str | None = None
    for index, row in enumerate(load_hf_rows(name, split, config_name), 1):
        where = f"{name}[{split}]:{index}"
        if code_field != "code" and code_field in row and "code" not in row:
            row = {**row, "code": row[code_field]}
        if index == 1:
            fmt = detect_row_format(row)
            if fmt is None and not isinstance(row.get(code_field), str):
                keys = ", ".join(sorted(row)[:8])
                raise InputError(
                    f"{where}: no string field {code_field!r} (fields: {keys}); pass --code-field"
                )
        if fmt is not None:
            yield ROW_PARSERS[fmt](row, where, f"{stem}#{index}")
            continue
        code = row.get(code_field)
        if not isinstance(code, str):
            raise InputError(f"{where}: {code_field!r} must be a string of Python source")
        if raw:
            try:
                names = tuple(
                    fn.name for fn, why in candidate_functions(ast.parse(code)) if why is None
                )
            except (SyntaxError, ValueError):
                names = ()
            yield RawCode(id=f"{stem}#{index}", code=code, source=where, functions=names)
        else:
            yield from seeds_from_source(code, f"{stem}#{index}", where, origin="hf")
