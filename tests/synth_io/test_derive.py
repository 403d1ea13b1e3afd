"""Inputs from signatures with hypothesis: the right shapes, bounded, and deterministic."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kodeio.sandbox.values import parse_call_args
from kodeio.synth.io.derive import NoStrategy, derive_inputs
from kodeio.synth.io.filters import FilterConfig, check_pair, oversize

CODE = textwrap.dedent(
    """
    from typing import Optional

    def hinted(nums: list[int], k: int, name: str = "ab", *, ratio: Optional[float] = None) -> int:
        return 1

    def by_name(matrix, s, n, points, is_ok, rate):
        return 2

    def nested(a: dict[str, list[int]], b: tuple[int, str], c: set[str], d: "frozenset[int]") -> int:
        return 3

    def posonly(x: int, /, y: bool) -> int:
        return 4

    def mystery(thing):
        return thing
    """
)


def draws(entry: str, k: int = 3, seed: int = 7) -> list[tuple[list, dict]]:
    return [parse_call_args(text) for text in derive_inputs(CODE, entry, k, seed)]


def test_hints_give_values_of_the_hinted_types_in_signature_order() -> None:
    found = draws("hinted")
    assert len(found) == 3 and len(set(map(repr, found))) == 3
    for args, kwargs in found:
        assert args == [] and list(kwargs) == ["nums", "k", "name", "ratio"]
        assert isinstance(kwargs["nums"], list) and all(isinstance(v, int) for v in kwargs["nums"])
        assert isinstance(kwargs["k"], int) and isinstance(kwargs["name"], str)
        assert kwargs["ratio"] is None or isinstance(kwargs["ratio"], float)


def test_names_and_nested_hints() -> None:
    for _, kw in draws("by_name", k=5):
        assert all(len(row) == len(kw["matrix"][0]) for row in kw["matrix"])  # rectangular
        assert isinstance(kw["s"], str) and 0 <= kw["n"] <= 20
        assert all(isinstance(p, tuple) and len(p) == 2 for p in kw["points"])
        assert isinstance(kw["is_ok"], bool) and 0.0 <= kw["rate"] <= 1.0
    for _, kw in draws("nested", k=5):
        assert isinstance(kw["a"], dict) and isinstance(kw["b"], tuple) and isinstance(kw["c"], set)
        assert isinstance(kw["d"], frozenset)


def test_positional_only_parameters_are_passed_positionally() -> None:
    for args, kwargs in draws("posonly"):
        assert len(args) == 1 and isinstance(args[0], int) and list(kwargs) == ["y"]


def test_draws_fit_the_default_size_filters() -> None:
    limits = FilterConfig()
    for entry in ("hinted", "by_name", "nested"):
        for args, kwargs in draws(entry, k=5, seed=3):
            assert all(oversize(v, limits) is None for v in [*args, *kwargs.values()])


def test_unknown_parameters_raise_no_strategy() -> None:
    with pytest.raises(NoStrategy, match="'thing'"):
        derive_inputs(CODE, "mystery", 3, 1)
    with pytest.raises(NoStrategy):
        derive_inputs(CODE, "absent", 3, 1)


PROBE = """
import sys
if sys.argv[1] == "more":
    import kodeio.cli, kodeio.synth.io.stage, kodeio.synth.io.report  # more local string constants
from kodeio.synth.io.derive import derive_inputs
code = sys.stdin.read()
for entry in ("hinted", "by_name", "nested"):
    print(derive_inputs(code, entry, 3, 11))
"""


def test_same_seed_same_inputs_across_processes_hash_seeds_and_imports() -> None:
    outputs = set()
    for hash_seed, imports in (("1", "few"), ("2", "more"), ("3", "few")):
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, imports],
            input=CODE,
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
            check=True,
        )
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    assert derive_inputs(CODE, "hinted", 3, 11) != derive_inputs(CODE, "hinted", 3, 12)


def test_check_pair_reasons() -> None:
    cfg = FilterConfig()
    assert check_pair([], {"x": 1}, "x=1", 2, "2", cfg) is None
    assert check_pair([], {}, "", None, "None", cfg)[0] == "none_output"
    assert check_pair([], {}, "", None, "None", FilterConfig(allow_none_output=True)) is None
    assert check_pair([], {"x": [[0] * 21]}, "x=...", 1, "1", cfg)[0] == "container_too_large"
    assert check_pair([], {"x": {"k" * 101: 1}}, "x=...", 1, "1", cfg)[0] == "string_too_long"
    assert check_pair([], {}, "x" * 1025, 1, "1", cfg)[0] == "input_too_long"
    assert check_pair([], {}, "", 1, "1" * 1025, cfg)[0] == "output_too_long"
