"""Code with everything that does not change what it computes taken out.

`canonical_source` is the exact key: the module is parsed, docstrings dropped (comments and
formatting never reach the AST), and the names a function owns renamed by order of first
appearance: functions it defines `f0, f1, ...`, their arguments `a0, a1, ...`, other local
names `v0, v1, ...`. Globals, builtins, attributes and imported names keep their spelling,
since `len` and `sorted` are what the code does. Two functions with the same key compute the
same thing however they were named, spaced or commented.

`tokens` is the same code as a token stream for n-gram overlap, and `lines` the same
tokens one statement line at a time (led by its indentation depth, `@1`, `@2`) for MinHash;
owned names are bare placeholders (`F`, `A`, `V`) rather than numbers there: numbering
follows the order of first appearance, so reordering two statements would renumber every
later name and hide the overlap the near methods are there to find.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


@dataclass(frozen=True)
class Normalised:
    source: str  # the exact key
    tokens: tuple[str, ...]  # placeholder token stream: n-grams
    lines: tuple[tuple[str, ...], ...]  # the same, line by line: MinHash shingles
    # Each top-level function of a module with more than one statement, normalised on its
    # own, with its token count: a benchmark function pasted into a larger seed.
    parts: tuple[tuple[str, int], ...] = ()


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _scan(tree: ast.Module) -> dict[str, str]:
    """Drop docstrings and name the kind of every owned name ("f", "a" or "v"), in one walk:
    functions defined anywhere, their arguments, and names bound inside a function."""
    functions: set[str] = set()
    arguments: set[str] = set()
    locals_: set[str] = set()
    declared_global: set[str] = set()
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, inside = stack.pop()
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and _is_docstring(body[0])
        ):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.add(node.name)
        if isinstance(node, FUNCTION_NODES):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
                if arg is not None:
                    arguments.add(arg.arg)
            inside = True
        elif inside:
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                locals_.add(node.id)
            elif isinstance(node, ast.Global):
                declared_global.update(node.names)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                locals_.add(node.name)
        stack.extend((child, inside) for child in ast.iter_child_nodes(node))
    kinds = {name: "v" for name in locals_ - declared_global}
    kinds.update({name: "a" for name in arguments})
    kinds.update({name: "f" for name in functions})
    return kinds


class _Renamer(ast.NodeTransformer):
    """Renames owned names `f0, a0, v0, ...` by kind, in order of first appearance."""

    def __init__(self, kinds: dict[str, str]) -> None:
        self.kinds = kinds
        self.names: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def rename(self, name: str) -> str:
        kind = self.kinds.get(name)
        if kind is None:
            return name
        if name not in self.names:
            n = self.counts.get(kind, 0)
            self.counts[kind] = n + 1
            self.names[name] = f"{kind}{n}"
        return self.names[name]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self.rename(node.name)
        node.returns = None  # annotations do not change what the code computes
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self.rename(node.arg)
        node.annotation = None
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.rename(node.id)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        self.generic_visit(node)
        if node.value is None:
            return ast.Pass()
        return ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno)

    def visit_Global(self, node: ast.Global) -> ast.AST:
        node.names = [self.rename(n) for n in node.names]
        return node

    def visit_Nonlocal(self, node: ast.Nonlocal) -> ast.AST:
        node.names = [self.rename(n) for n in node.names]
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.name:
            node.name = self.rename(node.name)
        self.generic_visit(node)
        return node


# Tokens of `ast.unparse` output: names, numbers, quoted strings (unparse writes them
# with escapes, so no string spans a line), then any other single character.
TOKEN = re.compile(r"""[A-Za-z_]\w*|\d[\w.]*|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s\w]""")


def normalise(code: str) -> Normalised | None:
    """The exact key, tokens and lines of `code`; None when it does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    renamer = _Renamer(_scan(tree))
    canonical = ast.unparse(renamer.visit(tree))
    parts = ()
    if len(tree.body) > 1:
        parts = tuple(
            _part(ast.unparse(node))
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        )
    placeholder = {new: new[0].upper() for new in renamer.names.values()}
    lines = []
    for line in canonical.splitlines():
        words = TOKEN.findall(line)
        if words:
            depth = (len(line) - len(line.lstrip(" "))) // 4  # four spaces a level
            lines.append((f"@{depth}", *(placeholder.get(w, w) for w in words)))
    tokens = tuple(t for line in lines for t in line[1:])
    return Normalised(source=canonical, tokens=tokens, lines=tuple(lines), parts=parts)


def _part(source: str) -> tuple[str, int]:
    """One function of a module as its own canonical source (names renumbered from 0)."""
    tree = ast.parse(source)
    text = ast.unparse(_Renamer(_scan(tree)).visit(tree))
    return text, len(TOKEN.findall(text))
