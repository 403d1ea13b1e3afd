"""Helpers the sandbox tests share."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from kodeio.sandbox.pool import SANDBOX_DIR


def descendants(root: int) -> set[int]:
    """`root` and every process below it, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


@pytest.fixture
def process_tree() -> Callable[[int], set[int]]:
    return descendants


@pytest.fixture(scope="module")
def worker_module() -> ModuleType:
    """The fork server's module, loaded in this process (it imports `values` bare)."""
    sys.path.insert(0, str(SANDBOX_DIR))
    try:
        spec = importlib.util.spec_from_file_location("kodeio_worker", SANDBOX_DIR / "worker.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(SANDBOX_DIR))
