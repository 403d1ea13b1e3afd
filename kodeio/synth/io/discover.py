"""Find callable seeds in Python source with `ast`, and cut each one out with what it needs.

A candidate is a top-level `def` with at least one named parameter and a `return <value>`
in its own body, that is not a generator and does no I/O (`open`, `input`, network,
subprocess or filesystem modules). Its seed code is a slice of the module: the function
plus the top-level imports, constants, helpers and classes it refers to (transitively), in
their original order, so each seed runs on its own and stays small. `if __name__ ==
"__main__":` blocks and bare top-level expressions are never part of a slice.

Nothing here executes the code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from kodeio.synth.io.seed import RawCode, Seed

# Calls that read or write the outside world; a function using them is not a pure seed.
IO_BUILTINS = {"open", "input", "breakpoint", "exit", "quit", "help"}
# Modules whose use means network, processes or the filesystem.
IO_MODULES = {
    "socket", "ssl", "urllib", "urllib2", "urllib3", "http", "httplib", "requests", "httpx",
    "aiohttp", "ftplib", "smtplib", "poplib", "imaplib", "telnetlib", "xmlrpc", "websocket",
    "websockets", "paramiko", "subprocess", "shutil", "pathlib", "tempfile", "glob", "io",
    "sqlite3", "pickle", "shelve", "webbrowser", "multiprocessing", "threading", "asyncio",
}  # fmt: skip
# `os.<attr>` that are pure; any other attribute of `os` counts as I/O.
PURE_OS_ATTRS = {"path", "sep", "linesep", "curdir", "pardir", "extsep", "altsep"}


def _loads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _stores(stmt: ast.stmt) -> set[str]:
    """Names a top-level statement binds (not descending into nested scopes)."""
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {stmt.name}
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name.split(".")[0]) for a in stmt.names}
    names: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name.split(".")[0]) for a in node.names}
        stack.extend(ast.iter_child_nodes(node))
    return names


def _is_main_guard(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.If):
        return False
    test = stmt.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _own_nodes(fn: ast.FunctionDef) -> Iterator[ast.AST]:
    """Nodes of `fn`'s body, not descending into nested functions, lambdas or classes."""
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _returns_value(fn: ast.FunctionDef) -> bool:
    for node in _own_nodes(fn):
        value = node.value if isinstance(node, ast.Return) else None
        if value is not None and not (isinstance(value, ast.Constant) and value.value is None):
            return True
    return False


def _is_generator(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Yield | ast.YieldFrom) for n in _own_nodes(fn))


def _named_params(fn: ast.FunctionDef) -> list[ast.arg]:
    a = fn.args
    return [*a.posonlyargs, *a.args, *a.kwonlyargs]


def io_reason(fn: ast.FunctionDef, io_names: set[str]) -> str | None:
    """Why `fn` does I/O (the first use found), or None. `io_names`: names bound to I/O modules."""
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in IO_BUILTINS
        ):
            return f"calls {node.func.id}()"
        if isinstance(node, ast.Name) and node.id in io_names:
            return f"uses {node.id}"
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in {"os", "sys"}
            and node.attr not in PURE_OS_ATTRS
            and not (
                node.value.id == "sys"
                and node.attr
                in {
                    "maxsize",
                    "float_info",
                    "setrecursionlimit",
                    "getrecursionlimit",
                    "version_info",
                }
            )
        ):
            return f"uses {node.value.id}.{node.attr}"
    return None


def _io_module_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in IO_MODULES:
                    names.add(a.asname or a.name.split(".")[0])
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] in IO_MODULES
        ):
            names |= {a.asname or a.name for a in node.names}
    return names


def slice_code(source: str, tree: ast.Module, entry: str) -> str:
    """`entry` plus the top-level statements it needs, transitively, in source order."""
    lines = source.splitlines()
    stmts = [s for s in tree.body if not _is_main_guard(s) and not isinstance(s, ast.Expr)]
    binds = [_stores(s) for s in stmts]
    keep: set[int] = set()
    needed: set[str] = {entry}
    changed = True
    while changed:
        changed = False
        for i, stmt in enumerate(stmts):
            if i in keep:
                continue
            always = isinstance(stmt, ast.ImportFrom) and (
                stmt.module == "__future__" or any(a.name == "*" for a in stmt.names)
            )
            if always or binds[i] & needed:
                keep.add(i)
                needed |= _loads(stmt)
                changed = True
    parts = []
    for i in sorted(keep):
        stmt = stmts[i]
        start = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        end = stmt.end_lineno or stmt.lineno
        parts.append("\n".join(lines[start - 1 : end]))
    return "\n\n".join(parts) + "\n"


def candidate_functions(tree: ast.Module) -> Iterator[tuple[ast.FunctionDef, str | None]]:
    """(function, I/O reason or None) for every top-level def with parameters and a return."""
    io_names = _io_module_names(tree)
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("__"):
            continue
        if not _named_params(node) or _is_generator(node) or not _returns_value(node):
            continue
        yield node, io_reason(node, io_names)


def seeds_from_source(source: str, stem: str, where: str, origin: str = "py") -> Iterator[Seed]:
    """Seeds for every candidate function in `source`; I/O functions come back with a problem."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 1
        msg = getattr(exc, "msg", None) or str(exc)
        yield Seed(
            id=f"{stem}#{line}", code="", entry="", format="python", origin=origin,
            source=f"{where}:{line}", problem="syntax_error", problem_detail=f"line {line}: {msg}",
        )  # fmt: skip
        return
    for fn, reason in candidate_functions(tree):
        yield Seed(
            id=f"{stem}#{fn.name}",
            code=slice_code(source, tree, fn.name) if reason is None else "",
            entry=fn.name,
            format="python",
            origin=origin,
            source=f"{where}:{fn.lineno}",
            problem="does_io" if reason else None,
            problem_detail=reason,
        )


def read_python(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return path.read_text(encoding="latin-1")


def seeds_from_python_file(path: Path) -> Iterator[Seed]:
    yield from seeds_from_source(read_python(path), path.stem, str(path))


def raw_from_python_file(path: Path) -> RawCode:
    source = read_python(path)
    try:
        names = tuple(
            fn.name for fn, reason in candidate_functions(ast.parse(source)) if reason is None
        )
    except (SyntaxError, ValueError):
        names = ()
    return RawCode(id=path.stem, code=source, source=str(path), functions=names)
