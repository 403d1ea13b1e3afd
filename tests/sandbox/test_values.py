import math

import pytest

from kodeio.sandbox.values import (
    NotALiteral,
    format_call_args,
    literal_repr,
    parse_call_args,
    parse_literal,
    to_json_lossless,
)

ROUND_TRIP = [
    1,
    -7,
    10**40,
    1.5,
    -0.0,
    "한국어 text",
    b"\x00bytes",
    None,
    True,
    (1,),
    (),
    [1, (2, 3), {"a": [None]}],
    {1: "int key", (1, 2): "tuple key"},
    {3, 1, 2},
    set(),
    frozenset({1, 2}),
    math.inf,
    -math.inf,
    [math.inf, {"x": -math.inf}],
    1 + 2j,
]


@pytest.mark.parametrize("value", ROUND_TRIP, ids=repr)
def test_literal_round_trip(value):
    back = parse_literal(literal_repr(value))
    assert back == value
    assert type(back) is type(value)


def test_nan_round_trips():
    assert math.isnan(parse_literal(literal_repr(math.nan)))
    assert literal_repr([math.nan]) == "[float('nan')]"


def test_set_repr_is_independent_of_hash_order():
    assert literal_repr({"b", "a", "c"}) == "{'a', 'b', 'c'}"


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('id')",
        "f(1)",
        "1 + 1",
        "x",
        "[i for i in range(3)]",
        "{**a}",
        "lambda: 1",
    ],
)
def test_parse_literal_refuses_code(text):
    with pytest.raises(NotALiteral):
        parse_literal(text)


def test_call_args():
    assert parse_call_args("[1, 2], key='x'") == ([[1, 2]], {"key": "x"})
    assert parse_call_args("") == ([], {})
    assert parse_call_args("'a,b', (1,)") == (["a,b", (1,)], {})
    with pytest.raises(NotALiteral):
        parse_call_args("*xs")
    with pytest.raises(NotALiteral):
        parse_call_args("open('x')")
    args, kwargs = [[1, "a"], {2: 3}], {"k": (1,)}
    assert parse_call_args(format_call_args(args, kwargs)) == (args, kwargs)


def test_json_lossless():
    assert to_json_lossless({"a": [1, 2.5, None, True]}) == (True, {"a": [1, 2.5, None, True]})
    for lossy in [(1, 2), {1: 2}, {1, 2}, math.nan, b"x", [math.inf]]:
        assert to_json_lossless(lossy) == (False, None)
