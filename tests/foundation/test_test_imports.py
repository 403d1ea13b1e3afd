"""Test modules import only kodeio, the standard library and third-party packages.

Shared helpers reach a test through pytest's fixture injection (conftest.py, which pytest
loads itself) or live in `kodeio.testing`; a test never imports another file of the tests
tree. Every `import` counts, inside functions too. A file under tests/ is importable by its
bare name (pytest puts test folders on `sys.path`), so any import whose first name is a
module or folder of the tests tree is one.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# Seed corpora that kodeio reads as data; they are never imported as modules.
DATA_DIRS = ("fixtures",)


def python_files(tests: Path) -> list[Path]:
    return [
        p
        for p in sorted(tests.rglob("*.py"))
        if not any(part in DATA_DIRS for part in p.relative_to(tests).parts[:-1])
    ]


def local_names(tests: Path) -> set[str]:
    """The names a test could import from the tests tree: `tests`, every module, every folder."""
    names = {tests.name}
    for path in python_files(tests):
        names.add(path.stem)
        names.update(path.relative_to(tests).parts[:-1])
    names.discard("__init__")
    return names


def local_imports(path: Path, tests: Path, names: set[str]) -> list[str]:
    """`file:line: module` for each import of `path` that reaches into the tests tree."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = ["." * node.level + (node.module or "")]
        else:
            continue
        for module in modules:
            if module.startswith(".") or module.split(".")[0] in names:
                found.append((node.lineno, module))
    return [f"{path.relative_to(tests)}:{line}: {module}" for line, module in sorted(found)]


def violations(tests: Path) -> list[str]:
    names = local_names(tests)
    return [v for path in python_files(tests) for v in local_imports(path, tests, names)]


def test_no_test_module_imports_another_file_of_the_tests_tree() -> None:
    assert violations(TESTS) == []


def test_the_check_sees_relative_bare_and_nested_imports(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    (tests / "area" / "fixtures").mkdir(parents=True)
    (tests / "conftest.py").write_text("import json\n")
    (tests / "area" / "helpers.py").write_text("from kodeio.config import load\n")
    (tests / "area" / "fixtures" / "seed.py").write_text("import helpers\n")  # data, not code
    (tests / "area" / "test_a.py").write_text(
        "import os\n"
        "from conftest import X\n"
        "from .helpers import Y\n"
        "from . import helpers\n"
        "def test_x():\n"
        "    import tests.area.helpers\n"
        "    from area.helpers import Z\n"
    )
    assert violations(tests) == [
        "area/test_a.py:2: conftest",
        "area/test_a.py:3: .helpers",
        "area/test_a.py:4: .",
        "area/test_a.py:6: tests.area.helpers",
        "area/test_a.py:7: area.helpers",
    ]
