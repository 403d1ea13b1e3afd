"""CRUXEval agreement: our verdicts equal CRUXEval's own scorer, prediction by prediction.

The table is mostly literal predictions (where agreement is required), plus a few
non-literal ones (`5/2`, `bytearray(b'ba')`) that are evaluated in the sandbox the way the
official check would evaluate them.

The reference below re-implements the official `evaluate_score` rules: an input prediction
without `f(` is wrong; an output prediction containing `f(<input>)` is wrong; otherwise
`assert <output> == <prediction>` runs after the code, and passes or not. The assertion is
evaluated in the sandbox (a Job in expression mode), exactly as Python would evaluate it.
"""

from __future__ import annotations

import pytest

from kodeio.sandbox import Job
from kodeio.synth.verify import VerifyItem, verify

# (code, input source, output literal source, output predictions, input predictions)
PROBLEMS = [
    (
        "def f(text):\n    return text[::-1] + text",
        "'hi'",
        "'ihhi'",
        ["'ihhi'", '"ihhi"', "'hiih'", "['ihhi']", "\"f('hi')\"", "'ihhi' "],
        ["f('hi')", 'f("hi")', "f('ih')", "f('hi', 1)", "g('hi')", "f(text='hi')"],
    ),
    (
        "def f(nums):\n    nums.sort()\n    return nums",
        "[3, 1, 2]",
        "[1, 2, 3]",
        ["[1, 2, 3]", "(1, 2, 3)", "[1.0, 2, 3]", "[3, 2, 1]", "[True, 2, 3]", "{1, 2, 3}"],
        ["f([3, 1, 2])", "f([1, 2, 3])", "f((3, 1, 2))", "f([2, 1])", "f({3, 2, 1})"],
    ),
    (
        "def f(d, k):\n    return d.get(k, -1)",
        "{1: 'a', 2: 'b'}, 2",
        "'b'",
        ["'b'", "'a'", "b'b'", "-1", "('b',)"],
        [
            "f({1: 'a', 2: 'b'}, 2)",
            "f({2: 'b'}, 2)",
            "f({2.0: 'b'}, 2)",
            "f({}, 2)",
            "f({True: 'b'}, 1)",
        ],
    ),
    (
        "def f(n):\n    return n / 2",
        "5",
        "2.5",
        ["2.5", "2.50", "5/2", "2.5000001", "2", "'2.5'"],
        ["f(5)", "f(5.0)", "f(5.0000001)", "f(True)", "f('5')"],
    ),
    (
        "def f(n):\n    return n // 2",
        "8",
        "4",
        ["4", "4.0", "True", "-4", "4j", "0x4"],
        ["f(8)", "f(9)", "f(8.5)", "f(10)", "f(n=8)"],
    ),
    (
        "def f(s):\n    return s.isdigit()",
        "'123'",
        "True",
        ["True", "1", "1.0", "False", "'True'", "None"],
        ["f('123')", "f('12a')", "f('')", "f('0')", "f(123)"],
    ),
    (
        "def f(xs):\n    return tuple(xs)",
        "[1, 2]",
        "(1, 2)",
        ["(1, 2)", "[1, 2]", "(1, 2.0)", "(2, 1)", "((1, 2),)"],
        ["f([1, 2])", "f((1, 2))", "f([1.0, 2])", "f('12')", "f([2, 1])"],
    ),
    (
        "def f(xs):\n    return set(xs)",
        "[1, 1, 2]",
        "{1, 2}",
        ["{1, 2}", "{2, 1}", "{1, 1, 2}", "[1, 2]", "frozenset({1, 2})", "{1.0, 2}"],
        ["f([1, 1, 2])", "f([2, 1])", "f((1, 2, 2))", "f([1])", "f({1: 0, 2: 0})"],
    ),
    (
        "def f(d):\n    return {v: k for k, v in d.items()}",
        "{'a': 1, 'b': 2}",
        "{1: 'a', 2: 'b'}",
        ["{1: 'a', 2: 'b'}", "{2: 'b', 1: 'a'}", "{'1': 'a', '2': 'b'}", "{1.0: 'a', 2: 'b'}"],
        ["f({'a': 1, 'b': 2})", "f({'b': 2, 'a': 1})", "f({'a': 1})", "f({'a': True, 'b': 2})"],
    ),
    (
        "def f(a, b):\n    return [a] * b",
        "'x', 3",
        "['x', 'x', 'x']",
        ["['x', 'x', 'x']", "['x'] ", "('x', 'x', 'x')", "['x', 'x']", "'xxx'"],
        ["f('x', 3)", "f('x', b=3)", "f(a='x', b=3)", "f('x', 3.0)", "f('x')"],
    ),
    (
        "def f(x):\n    return None if x else 0",
        "1",
        "None",
        ["None", "0", "''", "[]", "False"],
        ["f(1)", "f(0)", "f(True)", "f('a')", "f([])"],
    ),
    (
        "def f(s):\n    return s.upper()",
        "'한국'",
        "'한국'",
        ["'한국'", "'한 국'", "'韓國'", '"한국"'],
        ["f('한국')", "f('한국어')", "f('')", "f(None)"],
    ),
    (
        "def f(n):\n    return 2 ** n",
        "70",
        "1180591620717411303424",
        ["1180591620717411303424", "1.180591620717411303424e21", "1180591620717411303425"],
        ["f(70)", "f(70.0)", "f(69)", "f(-1)"],
    ),
    (
        "def f(x):\n    return x * 3",
        "0.1",
        "0.30000000000000004",
        ["0.30000000000000004", "0.3", "0.30000000000000005", "0.30000000000000004j"],
        ["f(0.1)", "f(0.1000000001)", "f(1/10)", "f(0.10)"],
    ),
    (
        "def f(b):\n    return b[::-1]",
        "b'ab'",
        "b'ba'",
        ["b'ba'", "'ba'", "bytearray(b'ba')", 'b"ba"'],
        ["f(b'ab')", "f('ab')", "f(b'ba')", "f(bytearray(b'ab'))"],
    ),
]


def reimplemented_official_check(code: str, inp: str, out: str, g: str, mode: str) -> Job | bool:
    """Our six-line copy of CRUXEval's evaluate_score rules (not the official code): a fixed
    answer or the check to run."""
    if mode == "input" and "f(" not in g:
        return False
    if mode == "output" and f"f({inp})" in g:
        return False
    return Job(id="ref", code=code, expr=f"{out} == {g}")


def test_agrees_with_a_reimplementation_of_the_official_rules_on_literal_predictions(sandbox):
    items: list[VerifyItem] = []
    reference: list[Job | bool] = []
    for p, (code, inp, out, out_preds, in_preds) in enumerate(PROBLEMS):
        for mode, preds in (("output", out_preds), ("input", in_preds)):
            for k, g in enumerate(preds):
                items.append(
                    VerifyItem(
                        id=f"{p}-{mode}-{k}",
                        code=code,
                        entry="f",
                        mode=mode,
                        input=inp,
                        output=None,
                        output_repr=out,
                        prediction=g,
                        policy="python_eq",
                        prediction_is_answer=True,
                        cruxeval_rules=True,
                    )
                )
                reference.append(reimplemented_official_check(code, inp, out, g, mode))
    jobs = [r for r in reference if isinstance(r, Job)]
    ran = iter(sandbox.run(jobs))
    expected = []
    for r in reference:
        if isinstance(r, Job):
            result = next(ran)
            expected.append(result.status == "ok" and result.output is True)
        else:
            expected.append(r)
    ours = list(verify(items, sandbox=sandbox))
    disagreements = [
        (it.id, it.mode, it.prediction, exp, v.correct, v.reason)
        for it, exp, v in zip(items, expected, ours, strict=True)
        if exp != v.correct
    ]
    assert not disagreements
    # The table is not trivial: both answers occur in both modes.
    for mode in ("output", "input"):
        outcomes = {e for it, e in zip(items, expected, strict=True) if it.mode == mode}
        assert outcomes == {True, False}
    assert len(items) >= 120


@pytest.mark.parametrize(
    ("prediction", "reason"),
    [("f('hi')", "match"), ("'hi'", "not_a_call"), ("g('hi')", "wrong_function")],
)
def test_cruxeval_input_rules(sandbox, prediction, reason):
    it = VerifyItem(
        id="x",
        code="def f(text):\n    return text[::-1] + text",
        entry="f",
        mode="input",
        input="'hi'",
        output=None,
        output_repr="'ihhi'",
        prediction=prediction,
        policy="python_eq",
        prediction_is_answer=True,
        cruxeval_rules=True,
    )
    (v,) = verify([it], sandbox=sandbox)
    assert v.reason == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("We run it.\n[ANSWER]\nassert f('hi') == 'ihhi'\n[/ANSWER]", "match"),
        ("</think>\n[ANSWER]\nassert f('hi') == f('hi')\n[/ANSWER]", "copies_call"),
        ("</think>\n[ANSWER]\n'ihih'\n[/ANSWER]", "mismatch"),
    ],
)
def test_cruxeval_rules_on_raw_model_text(text, reason):
    it = VerifyItem(
        id="x",
        code="def f(text):\n    return text[::-1] + text",
        entry="f",
        mode="output",
        input="'hi'",
        output=None,
        output_repr="'ihhi'",
        prediction=text,
        policy="python_eq",
        cruxeval_rules=True,
    )
    (v,) = verify([it])
    assert v.reason == reason
