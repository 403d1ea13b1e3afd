"""Properties over generated values: what a model writes correctly is read back exactly."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kodeio.sandbox.values import literal_repr
from kodeio.synth.verify import extract_answer, judge_values

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)

python_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=12)
    | st.binary(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.integers(-5, 5) | st.text(max_size=4), inner, max_size=3)
        | st.frozensets(st.integers(-5, 5) | st.text(max_size=3), max_size=3)
    ),
    max_leaves=12,
)


@SETTINGS
@given(json_values)
def test_a_json_answer_in_a_block_is_read_back_and_judged_equal(value):
    text = (
        "Tracing the loop gives the result below.\n</think>\n\n"
        f"```json\n{json.dumps({'output': value}, ensure_ascii=False, indent=2)}\n```"
    )
    ext = extract_answer(text, "output")
    assert ext.ok and ext.source == "json_block"
    assert judge_values(ext.value, value, "json")
    assert judge_values(ext.value, value, "python")


@SETTINGS
@given(python_values)
def test_a_python_literal_answer_in_prose_is_read_back_and_judged_equal(value):
    text = f"</think>\nSo the function returns {{'output': {literal_repr(value)}}} in the end."
    ext = extract_answer(text, "output")
    assert ext.ok and ext.source == "braces", ext
    assert judge_values(ext.value, value, "python")


# Keys JSON spells as strings: json.dumps writes 1 -> "1", True -> "true", None -> "null",
# 1.5 -> "1.5". A model's Python-literal answer keeps the native key; the expected value read
# from JSON has the string.
python_keyed_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(
            st.integers(-5, 5)
            | st.booleans()
            | st.none()
            | st.floats(allow_nan=False, allow_infinity=False, width=16)
            | st.text(max_size=4),
            inner,
            min_size=1,
            max_size=3,
        )
    ),
    max_leaves=12,
)


def _has_non_string_key(value) -> bool:
    if isinstance(value, dict):
        return any(not isinstance(k, str) for k in value) or any(
            _has_non_string_key(v) for v in value.values()
        )
    if isinstance(value, list | tuple):
        return any(_has_non_string_key(v) for v in value)
    return False


@SETTINGS
@given(python_keyed_values)
def test_json_policy_ignores_tuple_vs_list_and_key_spelling(value):
    as_json = json.loads(json.dumps(value))
    assert judge_values(value, as_json, "json")
    assert judge_values(as_json, value, "json")
    if _has_non_string_key(value):
        # The policy is what makes them equal: exact comparison tells them apart.
        assert not judge_values(value, as_json, "python")


@SETTINGS
@given(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300).filter(
        lambda x: abs(x) > 1e-300
    )
)
def test_relative_tolerance_boundary(x):
    assert judge_values(x * (1 + 1e-7), x, "json")
    assert not judge_values(x * (1 + 1e-4), x, "json")
    assert not judge_values(-x, x, "python")
