"""Assemble `quickstart.jsonl` from the seed sources in `src/` (deterministic bytes).

    python -m kodeio.synth.io.seeds.build            # rewrite quickstart.jsonl
    python -m kodeio.synth.io.seeds.build --check    # exit 1 if it is out of date

Each row's `code` is self-contained: the stdlib imports and module-level helpers the entry
function uses (found with `ast`), then the function itself, decorators removed. The
generator is renamed `input_generator` and gets `import random` (the sandbox seeds it).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kodeio.files import dumps
from kodeio.synth.io.seeds.corpus import quickstart_path
from kodeio.synth.io.seeds.src import MODULES
from kodeio.synth.io.seeds.src._registry import REGISTRY, SeedSpec

SRC_PACKAGE = "kodeio.synth.io.seeds.src"


@dataclass
class ModuleSource:
    """The parsed pieces of one source module that seeds may depend on."""

    text: str
    functions: dict[str, ast.FunctionDef]
    imports: dict[str, str]  # bound name -> the import line that binds it
    helpers: dict[str, ast.stmt]  # helper functions, classes and constants, by name
    order: dict[str, int]  # helper name -> position in the file

    def segment(self, node: ast.stmt) -> str:
        # FunctionDef.lineno is the `def` line, so decorators are left out.
        lines = self.text.splitlines()
        return "\n".join(lines[node.lineno - 1 : node.end_lineno]).rstrip() + "\n"


def parse_module(path: Path, seed_names: set[str]) -> ModuleSource:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    functions: dict[str, ast.FunctionDef] = {}
    imports: dict[str, str] = {}
    helpers: dict[str, ast.stmt] = {}
    order: dict[str, int] = {}
    for index, node in enumerate(tree.body):
        if isinstance(node, ast.FunctionDef):
            functions[node.name] = node
            if node.name not in seed_names:
                helpers[node.name] = node
                order[node.name] = index
        elif isinstance(node, ast.ClassDef):
            helpers[node.name] = node
            order[node.name] = index
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                imports[bound] = f"import {alias.name}" + (
                    f" as {alias.asname}" if alias.asname else ""
                )
        elif isinstance(node, ast.ImportFrom):
            if node.module in ("__future__",) or (node.module or "").endswith("_registry"):
                continue
            for alias in node.names:
                bound = alias.asname or alias.name
                imports[bound] = f"from {node.module} import {alias.name}" + (
                    f" as {alias.asname}" if alias.asname else ""
                )
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id != "CATEGORY":
                    helpers[target.id] = node
                    order[target.id] = index
    return ModuleSource(text, functions, imports, helpers, order)


def _names_used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def assemble(source: ModuleSource, node: ast.FunctionDef, rename: str | None = None) -> str:
    """The function's source preceded by every import and helper it needs (transitively)."""
    needed_helpers: set[str] = set()
    needed_imports: set[str] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        for name in _names_used(current):
            if name in source.imports:
                needed_imports.add(source.imports[name])
            elif name in source.helpers and name not in needed_helpers and name != node.name:
                needed_helpers.add(name)
                todo.append(source.helpers[name])  # type: ignore[arg-type]
    parts: list[str] = []
    if needed_imports:
        parts.append("\n".join(sorted(needed_imports)) + "\n")
    seen_nodes: set[int] = set()
    for name in sorted(needed_helpers, key=lambda n: source.order[n]):
        helper = source.helpers[name]
        if id(helper) not in seen_nodes:
            seen_nodes.add(id(helper))
            parts.append(source.segment(helper))
    body = source.segment(node)
    if rename:
        body = body.replace(f"def {node.name}(", f"def {rename}(", 1)
    parts.append(body)
    return "\n\n".join(parts)


def build_rows(modules: tuple[str, ...] = MODULES) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for module_name in modules:
        module = importlib.import_module(f"{SRC_PACKAGE}.{module_name}")
        category: str = module.CATEGORY
        specs: list[SeedSpec] = REGISTRY.get(module.__name__, [])
        seed_names = {s.function.__name__ for s in specs}
        seed_names |= {s.generator.__name__ for s in specs if s.generator}
        source = parse_module(Path(module.__file__ or ""), seed_names)
        for spec in specs:
            name = spec.function.__name__
            if spec.generator is None:
                raise SystemExit(f"{module_name}.{name}: no @inputs_for generator")
            code = assemble(source, source.functions[name])
            generator = assemble(
                source, source.functions[spec.generator.__name__], rename="input_generator"
            )
            if "import random" not in generator:
                generator = "import random\n\n\n" + generator
            rows.append(
                {
                    "id": f"{category}/{name}",
                    "code": code,
                    "entry": name,
                    "input_generator": generator,
                    "description": spec.description,
                    "category": category,
                }
            )
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    return "".join(dumps(row) + "\n" for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    parser.add_argument("-o", "--output", type=Path, default=None)
    args = parser.parse_args(argv)
    output = args.output or quickstart_path()
    text = render(build_rows())
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            print(
                f"{output}: out of date; run python -m kodeio.synth.io.seeds.build", file=sys.stderr
            )
            return 1
        return 0
    from kodeio.files import atomic_write_text

    atomic_write_text(output, text)
    output.chmod(0o644)  # package data: readable by everyone (mkstemp creates 0600)
    print(f"wrote {text.count(chr(10))} seeds to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
