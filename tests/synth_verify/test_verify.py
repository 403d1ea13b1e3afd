"""verify() end to end on the real sandbox: input mode runs the entry on the predicted input."""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import pytest

from kodeio.sandbox import Job
from kodeio.synth.verify import VerifyConfig, VerifyItem, verify
from kodeio.synth.verify import engine as engine_module

MARKER = "kodeio-verify-" + uuid.uuid4().hex
HOST_TMP_FILE = Path("/tmp") / MARKER

ADD = "def f(a, b=0):\n    return a + b\n"
PAIR = "def main_solution(x, y):\n    return [x * y, x / y]\n"
TUPLE = "def f(n):\n    return (n, n * 2)\n"
FLOAT = "def f(k):\n    return 0.1 * k + 0.2\n"
NAN = "def f(x):\n    return float('nan') if x < 0 else x\n"
LOOP = "def f(x):\n    while True:\n        x += 1\n"
DIV = "def f(x):\n    return 10 // x\n"
OBJ = "class Node:\n    pass\n\ndef f(x):\n    return Node()\n"
ECHO = "def f(s):\n    return s\n"


def item(i, code, entry, prediction, output=None, mode="input", **kw) -> VerifyItem:
    return VerifyItem(
        id=str(i),
        code=code,
        entry=entry,
        mode=mode,
        input=None,
        output=output,
        prediction=prediction,
        **kw,
    )


# (code, entry, prediction, target output, extra item fields) -> (correct, reason, produced)
INPUT_CASES = [
    pytest.param(
        PAIR,
        "main_solution",
        '</think>\n```json\n{"input": {"x": 6, "y": 3}}\n```',
        [18, 2.0],
        {},
        (True, "match", [18, 2.0]),
        id="codeio-kwargs",
    ),
    pytest.param(
        PAIR,
        "main_solution",
        '</think>\n```json\n{"input": {"x": 6, "y": 2}}\n```',
        [18, 2.0],
        {},
        (False, "mismatch", [12, 3.0]),
        id="codeio-kwargs-wrong-produced-fed-back",
    ),
    pytest.param(ADD, "f", "</think>\nf(2, b=3)", 5, {}, (True, "match", 5), id="call-form"),
    pytest.param(
        ADD, "f", "</think>\nThe input is: 4, 1", 5, {}, (True, "match", 5), id="bare-args"
    ),
    pytest.param(
        ADD, "f", "</think>\nf(*[1, 4])", 5, {}, (True, "match", 5), id="starred-args-in-sandbox"
    ),
    pytest.param(
        ADD,
        "f",
        "</think>\nprint(5)",
        5,
        {},
        (False, "wrong_function", None),
        id="other-function",
    ),
    pytest.param(
        TUPLE, "f", "</think>\nf(2)", [2, 4], {}, (True, "match", (2, 4)), id="tuple-vs-list-json"
    ),
    pytest.param(
        TUPLE,
        "f",
        "</think>\nf(2)",
        None,
        {"policy": "python", "output_repr": "(2, 4)"},
        (True, "match", (2, 4)),
        id="tuple-python",
    ),
    pytest.param(
        TUPLE,
        "f",
        "</think>\nf(2)",
        [2, 4],
        {"policy": "python"},
        (False, "mismatch", (2, 4)),
        id="tuple-vs-list-python",
    ),
    pytest.param(
        FLOAT,
        "f",
        '</think>{"input": {"k": 1}}',
        0.3,
        {},
        (True, "match", 0.1 * 1 + 0.2),
        id="codeio-float-bug",
    ),
    pytest.param(
        NAN,
        "f",
        "</think>f(-1)",
        None,
        {"policy": "python", "output_repr": "float('nan')"},
        (True, "match", math.nan),
        id="nan-output",
    ),
    pytest.param(
        DIV, "f", "</think>f(0)", 5, {}, (False, "exec_error:ZeroDivisionError", None), id="raises"
    ),
    pytest.param(LOOP, "f", "</think>f(1)", 5, {}, (False, "timeout", None), id="loops-forever"),
    pytest.param(
        OBJ, "f", "</think>f(1)", 5, {}, (False, "unrepresentable", None), id="object-output"
    ),
    pytest.param(
        ECHO,
        "f",
        "</think>{'input': {1: 'a'}}",
        "a",
        {"policy": "python"},
        (False, "invalid_input", None),
        id="non-string-kwarg-names",
    ),
    pytest.param(
        ECHO,
        "f",
        "</think>'abc', ",
        "abc",
        {"cruxeval_rules": True},
        (False, "not_a_call", None),
        id="cruxeval-needs-a-call",
    ),
    pytest.param(
        ECHO,
        "f",
        '</think>```json\n{"input": {"s": "한국어 ✓"}}\n```',
        "한국어 ✓",
        {},
        (True, "match", "한국어 ✓"),
        id="unicode-input",
    ),
    pytest.param(
        ECHO,
        "f",
        '</think>```json\n{"input": {"s": 123456789012345678901234567890}}\n```',
        123456789012345678901234567890,
        {},
        (True, "match", 123456789012345678901234567890),
        id="big-int-input",
    ),
    pytest.param(
        ECHO,
        "f",
        "</think>{'input': {'s': b'\\x00\\xff'}}",
        None,
        {"policy": "python", "output_repr": "b'\\x00\\xff'"},
        (True, "match", b"\x00\xff"),
        id="bytes-input",
    ),
    pytest.param(
        ECHO,
        "f",
        "</think>{'input': {'s': {3, 1}}}",
        None,
        {"policy": "python", "output_repr": "{1, 3}"},
        (True, "match", {1, 3}),
        id="set-input",
    ),
]


@pytest.mark.parametrize(
    ("code", "entry", "prediction", "output", "extra", "expected"), INPUT_CASES
)
def test_input_mode_table(sandbox, code, entry, prediction, output, extra, expected):
    (verdict,) = verify([item("x", code, entry, prediction, output, **extra)], sandbox=sandbox)
    correct, reason, produced = expected
    assert (verdict.correct, verdict.reason) == (correct, reason), verdict
    if isinstance(produced, float) and math.isnan(produced):
        assert math.isnan(verdict.produced)
    else:
        assert verdict.produced == produced and type(verdict.produced) is type(produced)
    if reason in ("match", "mismatch"):
        assert verdict.produced_repr is not None and verdict.call_repr is not None
    if reason.startswith("exec_error") or reason == "timeout":
        assert verdict.error


def test_a_call_to_another_function_is_never_executed(counting):
    code = "def f(x):\n    return x\n\ndef g(x):\n    return x\n"
    items = [
        item(1, code, "f", "</think>g(1)", 1),
        item(2, code, "f", "</think>__import__('os').system('id')", 1),
        item(3, code, "f", "</think>Solution().f(1)", 1),
        item(4, code, "f", "</think>f(1)", 1),
    ]
    verdicts = list(verify(items, sandbox=counting))
    assert [v.reason for v in verdicts] == [
        "wrong_function",
        "wrong_function",
        "wrong_function",
        "match",
    ]
    assert [job.input for job in counting.jobs] == ["1"]  # only the entry call ran


def test_escape_attempts_are_contained(sandbox, tmp_path):
    host_file = tmp_path / "pwned"
    code = "def f(x):\n    return x\n"
    attempts = {
        "system": f"f(__import__('os').system('touch {host_file}'))",
        "subprocess": "f(__import__('subprocess').run(['id']))",
        "socket": "f(__import__('socket').create_connection(('127.0.0.1', 22)))",
        "write-host-file": f"f(open({str(host_file)!r}, 'w').write('x'))",
        "write-host-tmp": f"f(open({str(HOST_TMP_FILE)!r}, 'w').write('x'))",
        "read-secret": "f(open('/root/.cache/huggingface/token').read())",
        "memory": "f(bytearray(50 * 1024**3))",
        "loop-in-args": "f([0 for _ in iter(int, 1)])",
        "exit": "f(__import__('os')._exit(0))",
        "segfault": "f(__import__('ctypes').string_at(0))",
        "kill-parent": "f(__import__('os').kill(__import__('os').getppid(), 9))",
    }
    items = [item(name, code, "f", f"</think>\n{src}", None) for name, src in attempts.items()]
    verdicts = {v.id: v for v in verify(items, sandbox=sandbox)}
    assert verdicts["system"].reason == "blocked"
    assert verdicts["subprocess"].reason == "blocked"
    assert verdicts["socket"].reason == "blocked"
    assert verdicts["write-host-file"].reason.startswith("exec_error:")
    assert verdicts["read-secret"].reason.startswith("exec_error:")
    assert verdicts["memory"].reason == "memory"
    assert verdicts["loop-in-args"].reason in ("timeout", "memory")
    assert verdicts["exit"].reason == "no_result"
    assert verdicts["segfault"].reason == "crashed"
    assert verdicts["kill-parent"].reason == "blocked"
    assert not any(v.correct for v in verdicts.values())
    assert not host_file.exists()
    assert not HOST_TMP_FILE.exists()
    # The sandbox still answers normal work after all of that.
    (after,) = verify([item("after", code, "f", "</think>\nf([1, 2])", [1, 2])], sandbox=sandbox)
    assert after.reason == "match"


def test_output_mode_needs_no_sandbox(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("output mode must not start a sandbox")

    monkeypatch.setattr(engine_module, "Sandbox", refuse)
    items = [
        item(1, ADD, "f", '</think>```json\n{"output": 0.30000001}\n```', 0.3, mode="output"),
        item(2, ADD, "f", '</think>```json\n{"output": [1, 2]}\n```', [1, 2], mode="output"),
        item(3, ADD, "f", "</think>nothing here", 1, mode="output"),
        item(4, ADD, "f", '</think>{"input": {"a": 1}}', 1, mode="output"),
    ]
    assert [(v.correct, v.reason) for v in verify(items)] == [
        (True, "match"),
        (True, "match"),
        (False, "no_answer"),
        (False, "wrong_key"),
    ]


def test_order_is_kept_across_batches_and_duplicates_run_once(counting):
    items = []
    for i in range(60):
        if i % 3 == 0:
            items.append(item(i, ADD, "f", f"</think>{{'output': {i}}}", i, mode="output"))
        elif i % 3 == 1:
            items.append(item(i, ADD, "f", f"</think>f({i}, 1)", i + 1))  # correct
        else:
            items.append(item(i, ADD, "f", "</think>f(0, 0)", i))  # one shared wrong input
    verdicts = list(verify(items, VerifyConfig(batch_size=7), sandbox=counting))
    assert [v.id for v in verdicts] == [str(i) for i in range(60)]
    for i, v in enumerate(verdicts):
        assert v.correct is (i % 3 != 2), (i, v)
        if i % 3 == 2:
            assert v.reason == "mismatch" and v.produced == 0
    # 20 distinct correct calls + "f(0, 0)" once per batch that holds one (9 batches).
    assert len(counting.jobs) == 20 + 9


def test_passed_in_sandbox_stays_open_and_consistent_after_abandoning(sandbox):
    items = [item(i, ADD, "f", f"</think>f({i})", i) for i in range(40)]
    gen = verify(items, sandbox=sandbox)
    first = [next(gen) for _ in range(3)]
    assert [v.correct for v in first] == [True, True, True]
    gen.close()  # abandoned with jobs in flight
    result = sandbox.run_one(Job(id="after", code=ADD, entry="f", input="20, 22"))
    assert (result.status, result.output) == ("ok", 42)
    again = list(verify(items[:5], sandbox=sandbox))
    assert [v.produced for v in again] == [0, 1, 2, 3, 4]


def test_own_sandbox_is_started_and_closed(monkeypatch):
    made = []
    real = engine_module.Sandbox

    class Tracking(real):  # type: ignore[misc, valid-type]
        def close(self) -> None:
            made.append("closed")
            super().close()

    monkeypatch.setattr(engine_module, "Sandbox", Tracking)
    cfg = VerifyConfig.model_validate({"sandbox": {"workers": 1, "timeout": 1.0}})
    verdicts = list(verify([item(1, ADD, "f", "</think>f(1, 1)", 2)], cfg))
    assert verdicts[0].reason == "match"
    assert made == ["closed"]


def test_unterminated_traces_can_be_rejected(sandbox):
    text = "<think>\nso the input is f(2, 3)"
    loose = list(verify([item(1, ADD, "f", text, 5)], sandbox=sandbox))
    strict = list(
        verify(
            [item(1, ADD, "f", text, 5)], VerifyConfig(reject_unterminated=True), sandbox=sandbox
        )
    )
    assert loose[0].reason == "match" and loose[0].extraction.unterminated
    assert (strict[0].correct, strict[0].reason) == (False, "unterminated")


def test_verdict_row_is_json(sandbox):
    (v,) = verify([item(1, TUPLE, "f", "</think>f(3)", [3, 6])], sandbox=sandbox)
    row = v.to_row()
    assert row["id"] == "1" and row["correct"] is True and row["reason"] == "match"
    assert row["produced"] is None and row["produced_repr"] == "(3, 6)"  # a tuple is not JSON
    assert row["answer_repr"] == "f(3)"


def test_bad_items_are_refused():
    with pytest.raises(ValueError, match="mode"):
        item(1, ADD, "f", "x", 1, mode="both")
    with pytest.raises(ValueError, match="policy"):
        item(1, ADD, "f", "x", 1, policy="yaml")
