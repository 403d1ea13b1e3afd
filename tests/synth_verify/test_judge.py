"""Value judging under the json, python and python_eq policies."""

from __future__ import annotations

import math

import pytest

from kodeio.synth.verify import judge as judge_module
from kodeio.synth.verify import judge_values

NAN = float("nan")
INF = float("inf")

# (predicted, expected, json, python, python_eq)
TABLE = [
    # floats
    pytest.param(0.1 + 0.2, 0.3, True, True, False, id="float-sum-within-tolerance"),
    pytest.param(0.3, 0.31, False, False, False, id="float-clearly-different"),
    pytest.param(1.0000001, 1.0, True, True, False, id="float-1e-7-relative"),
    pytest.param(1.00001, 1.0, False, False, False, id="float-1e-5-relative"),
    pytest.param(1e-300, 0.0, False, False, False, id="tiny-vs-zero-no-abs-tol"),
    pytest.param(NAN, NAN, True, True, False, id="nan-equals-nan"),
    pytest.param([NAN, 1], [float("nan"), 1], True, True, False, id="nan-in-list"),
    pytest.param(NAN, 0.0, False, False, False, id="nan-vs-number"),
    pytest.param(INF, INF, True, True, True, id="inf-equals-inf"),
    pytest.param(INF, -INF, False, False, False, id="inf-vs-minus-inf"),
    pytest.param(1e308, INF, False, False, False, id="huge-vs-inf"),
    pytest.param(-0.0, 0.0, True, True, True, id="minus-zero"),
    # int / float / bool
    pytest.param(1, 1.0, True, False, True, id="int-vs-float"),
    pytest.param(True, 1, False, False, True, id="bool-vs-int"),
    pytest.param(False, 0.0, False, False, True, id="bool-vs-float"),
    pytest.param(None, 0, False, False, False, id="none-vs-zero"),
    pytest.param(10**30 + 1, 10**30, False, False, False, id="big-ints-exact"),
    pytest.param(2**100, 2**100, True, True, True, id="big-int-equal"),
    pytest.param(10**400, 1e308, False, False, False, id="int-beyond-float-range"),
    # tuples vs lists
    pytest.param((1, 2), [1, 2], True, False, False, id="tuple-vs-list"),
    pytest.param([(1, 2), (3,)], [[1, 2], [3]], True, False, False, id="nested-tuples"),
    pytest.param((1, 2), (1, 2), True, True, True, id="tuple-vs-tuple"),
    pytest.param([1, 2], [2, 1], False, False, False, id="order-matters"),
    pytest.param([1, 2], [1, 2, 3], False, False, False, id="length-differs"),
    # sets
    pytest.param({1, 2, 3}, {3, 2, 1}, True, True, True, id="sets-equal"),
    pytest.param({1, 2}, [1, 2], False, False, False, id="set-vs-list"),
    pytest.param({1, 2}, {1.0, 2}, False, False, True, id="set-int-vs-float-elements"),
    pytest.param(frozenset({1}), {1}, False, False, True, id="frozenset-vs-set"),
    # dicts
    pytest.param({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}, True, True, True, id="dict-order"),
    pytest.param({1: "x"}, {"1": "x"}, True, False, False, id="int-key-vs-str-key"),
    pytest.param({1: "x"}, {1.0: "x"}, False, False, True, id="int-key-vs-float-key"),
    pytest.param({True: 1}, {"true": 1}, True, False, False, id="bool-key-json-spelling"),
    pytest.param(
        {"a": {2: (0.1 + 0.2, NAN)}},
        {"a": {"2": [0.3, NAN]}},
        True,
        False,
        False,
        id="nested-int-keys-floats-nan",
    ),
    pytest.param(
        {"a": {2: (0.1 + 0.2, NAN)}},
        {"a": {2: (0.3, NAN)}},
        True,
        True,
        False,
        id="nested-int-keys-python",
    ),
    pytest.param({"a": 1}, {"a": 1, "b": 2}, False, False, False, id="missing-key"),
    pytest.param({"a": None}, {}, False, False, False, id="none-value-vs-absent"),
    # strings, unicode, bytes
    pytest.param("한국어", "한국어", True, True, True, id="korean"),
    pytest.param("e\u0301", "\u00e9", False, False, False, id="unicode-not-normalized"),
    pytest.param("1", 1, False, False, False, id="string-vs-int"),
    pytest.param("None", None, False, False, False, id="string-none"),
    pytest.param(b"ab", b"ab", True, True, True, id="bytes-equal"),
    pytest.param(b"ab", "ab", False, False, False, id="bytes-vs-str"),
    pytest.param([b"\x00"], (b"\x00",), True, False, False, id="bytes-in-tuple"),
    # complex
    pytest.param(1 + 2j, complex(1, 2.0000000001), True, True, False, id="complex-tolerance"),
]


@pytest.mark.parametrize(("predicted", "expected", "as_json", "as_python", "as_eq"), TABLE)
def test_policy_table(predicted, expected, as_json, as_python, as_eq):
    assert judge_values(predicted, expected, "json") is as_json
    assert judge_values(predicted, expected, "python") is as_python
    assert judge_values(predicted, expected, "python_eq") is as_eq


@pytest.mark.parametrize(("predicted", "expected", "as_json", "as_python", "as_eq"), TABLE)
def test_judging_is_symmetric(predicted, expected, as_json, as_python, as_eq):
    assert judge_values(expected, predicted, "json") is as_json
    assert judge_values(expected, predicted, "python") is as_python


def test_python_eq_is_plain_python_equality_on_literals():
    for predicted, expected, *_ in (p.values for p in TABLE):
        if isinstance(predicted, float) and math.isnan(predicted):
            continue  # the shared-NaN case is covered below
        assert judge_values(predicted, expected, "python_eq") is (predicted == expected)


def test_python_eq_treats_nan_like_two_fresh_objects():
    shared = math.nan  # parsers hand out this one object for every NaN
    assert [shared] == [shared]  # identity shortcut on the host
    assert judge_values([shared], [shared], "python_eq") is False  # CRUXEval sees False


def test_tolerance_is_configurable():
    assert judge_values(0.3, 0.31, "json", rel_tol=0.1)
    assert not judge_values(0.1 + 0.2, 0.3, "json", rel_tol=0.0)
    assert not judge_values(0.1 + 0.2, 0.3, "python", rel_tol=0.0)
    assert judge_values(1e-13, 0.0, "json", abs_tol=1e-12)


def test_float_comparison_path_really_runs(monkeypatch):
    """CodeI/O's `is_close` used `math` without importing it; a bare except made every float
    comparison False. Here the float path must run (a spy sees it) and must not be
    swallowed: if it breaks, judging raises instead of quietly answering False."""
    calls = []
    real = judge_module.floats_close

    def spy(a, b, rel_tol, abs_tol):
        calls.append((a, b))
        return real(a, b, rel_tol, abs_tol)

    monkeypatch.setattr(judge_module, "floats_close", spy)
    assert judge_values([0.1 + 0.2], [0.3], "json")
    assert judge_values({"x": 0.1 + 0.2}, {"x": 0.3}, "python")
    assert calls == [(0.1 + 0.2, 0.3), (0.1 + 0.2, 0.3)]

    def broken(a, b, rel_tol, abs_tol):
        raise NameError("name 'math' is not defined")

    monkeypatch.setattr(judge_module, "floats_close", broken)
    with pytest.raises(NameError):
        judge_values(0.1 + 0.2, 0.3, "json")
    with pytest.raises(NameError):
        judge_values(0.1 + 0.2, 0.3, "python")


def test_unknown_policy_is_an_error():
    with pytest.raises(ValueError, match="policy"):
        judge_values(1, 1, "yaml")  # type: ignore[arg-type]
