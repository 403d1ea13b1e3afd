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
import io
import tokenize
from dataclasses import dataclass

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


@dataclass(frozen=True)
class Normalised:
    source: str  # the exact key
    tokens: tuple[str, ...]  # placeholder token stream: n-grams
    lines: tuple[tuple[str, ...], ...]  # the same, line by line: MinHash shingles


def _drop_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]


def _owned_names(tree: ast.Module) -> tuple[set[str], set[str], set[str]]:
    """(functions defined anywhere, argument names, names assigned inside a function)."""
    functions: set[str] = set()
    arguments: set[str] = set()
    locals_: set[str] = set()
    declared_global: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.add(node.name)
        if isinstance(node, FUNCTION_NODES):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
                if arg is not None:
                    arguments.add(arg.arg)
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store | ast.Del):
                    locals_.add(inner.id)
                elif isinstance(inner, ast.Global):
                    declared_global.update(inner.names)
                elif isinstance(inner, ast.ExceptHandler) and inner.name:
                    locals_.add(inner.name)
    locals_ -= declared_global | functions | arguments
    arguments -= functions
    return functions, arguments, locals_


class _Renamer(ast.NodeTransformer):
    """Renames owned names; `numbered` gives `v0, v1, ...`, otherwise one placeholder per kind."""

    def __init__(self, kinds: dict[str, str], numbered: bool) -> None:
        self.kinds = kinds
        self.numbered = numbered
        self.names: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def rename(self, name: str) -> str:
        kind = self.kinds.get(name)
        if kind is None:
            return name
        if not self.numbered:
            return kind.upper()
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


def _kinds(tree: ast.Module) -> dict[str, str]:
    functions, arguments, locals_ = _owned_names(tree)
    kinds = {name: "v" for name in locals_}
    kinds.update({name: "a" for name in arguments})
    kinds.update({name: "f" for name in functions})
    return kinds


def _token_stream(source: str) -> tuple[str, ...]:
    skip = {
        tokenize.NEWLINE,
        tokenize.NL,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.COMMENT,
        tokenize.ENDMARKER,
    }
    try:
        return tuple(
            t.string
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type not in skip
        )
    except (tokenize.TokenError, SyntaxError):
        return tuple(source.split())


def normalise(code: str) -> Normalised | None:
    """The exact key and the token stream of `code`; None when it does not parse."""
    try:
        tree = ast.parse(code)
        placeholder_tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    _drop_docstrings(tree)
    _drop_docstrings(placeholder_tree)
    kinds = _kinds(tree)
    canonical = ast.unparse(_Renamer(kinds, numbered=True).visit(tree))
    flat = ast.unparse(_Renamer(kinds, numbered=False).visit(placeholder_tree))
    lines = tuple(_line_tokens(line) for line in flat.splitlines() if line.strip())
    tokens = tuple(t for line in lines for t in line[1:])
    return Normalised(source=canonical, tokens=tokens, lines=lines)


def _line_tokens(line: str) -> tuple[str, ...]:
    """`@depth` and the tokens of one line of `ast.unparse` output (four spaces a level)."""
    depth = (len(line) - len(line.lstrip(" "))) // 4
    return (f"@{depth}", *_token_stream(line.strip()))
