"""Input planning helpers: canonical keys, generator handling, recorded-label comparison."""

from __future__ import annotations

from kodeio.sandbox import Result
from kodeio.synth.io.inputs import (
    canonical,
    generator_name,
    generator_state,
    given_inputs,
    jsonify,
    reference_matches,
)
from kodeio.synth.io.seeds import Seed


def seed(fmt: str = "json", **kw) -> Seed:
    return Seed(id="s", code="def f(n):\n    return n\n", entry="f", format=fmt, **kw)  # type: ignore[arg-type]


def ok(repr_text: str, output=None, is_json: bool = True) -> Result:
    return Result(id="x", status="ok", output=output, output_repr=repr_text, output_is_json=is_json)


def test_canonical_keys_unify_spellings() -> None:
    assert canonical({"args": [1], "kwargs": {"b": "x"}})[0] == "1, b='x'"
    assert canonical("1,  b = 'x'") == ("1, b='x'", "1, b='x'")
    assert canonical("*[5, 3]") == ("*[5, 3]", "*[5, 3]")  # not a literal: evaluated in the sandbox


def test_given_inputs_are_distinct_capped_and_carry_their_labels() -> None:
    s = seed(
        inputs=(
            {"args": [], "kwargs": {"n": 1}},
            {"kwargs": {"n": 1}},
            {"args": [], "kwargs": {"n": 2}},
            {"args": [], "kwargs": {"n": 3}},
        ),
        reference_outputs=(("json", 1), ("json", 1), ("json", 2), ("json", 3)),
    )
    planned = given_inputs(s, 2)
    assert [p.key for p in planned] == ["n=1", "n=2"]
    assert [p.reference for p in planned] == [("json", 1), ("json", 2)]


def test_generator_name_prefers_input_generator_and_skips_functions_with_parameters() -> None:
    assert generator_name("def helper(x):\n    return x\n\ndef make():\n    return {}\n") == "make"
    assert (
        generator_name(
            "def a():\n    return {}\n\ndef input_generator():\n    return {}\n\ndef b():\n    return {}\n"
        )
        == "input_generator"
    )
    assert generator_name("def g(x):\n    return {}\n") is None
    assert generator_name("def g(:\n") is None


def test_generator_tries_agree_or_are_not_used() -> None:
    state = generator_state(
        seed(input_generator="def input_generator():\n    return {'n': 1}\n"), 0
    )
    assert state is not None and state.name == "input_generator"
    assert state.job(0, "a").seed == state.job(0, "b").seed != state.job(1, "a").seed
    state.take(ok("{'n': 1}", {"n": 1}), ok("{'n': 1}", {"n": 1}), 3)
    state.take(ok("{'n': 2}", {"n": 2}), ok("{'n': 9}", {"n": 9}), 3)  # differs: unstable
    state.take(
        ok("{'n': (1, 2)}", None, False), ok("{'n': (1, 2)}", None, False), 3
    )  # tuple -> list
    state.take(ok("[1]", [1]), ok("[1]", [1]), 3)  # not a kwargs dict
    state.take(Result(id="x", status="timeout", error="CPU limit 1s"), None, 3)
    assert list(state.found) == ["n=1", "n=[1, 2]"]
    assert state.found["n=[1, 2]"].job_input == {"args": [], "kwargs": {"n": [1, 2]}}
    assert (state.unstable, state.bad_outputs, state.errors, state.stalled) == (1, 1, 1, True)


def test_python_policy_generators_keep_python_values() -> None:
    state = generator_state(
        seed("python", input_generator="def gen():\n    return {'n': {1, 2}}\n"), 0
    )
    assert state is not None
    state.take(ok("{'n': {1, 2}}", None, False), ok("{'n': {1, 2}}", None, False), 3)
    assert list(state.found) == ["n={1, 2}"]


def test_jsonify_and_reference_matches() -> None:
    assert jsonify((1, [2, (3,)])) == (True, [1, [2, [3]]])
    assert (
        jsonify({1: 2})[0] is False
        and jsonify({1.5})[0] is False
        and jsonify(float("nan"))[0] is False
    )
    assert reference_matches(("json", [1, 2]), None, "(1, 2)") is True  # as CodeI/O stored tuples
    assert reference_matches(("json", 1), 1.0, "1.0") is False
    assert reference_matches(("repr", "{'b', 'a'}"), None, "{'a', 'b'}") is True
    assert reference_matches(("repr", "True"), 1, "1") is False
    assert reference_matches(None, 1, "1") is None
