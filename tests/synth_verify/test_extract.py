"""Answer extraction on real-looking model outputs (R1-style traces, plain answers, CRUXEval).

Each case: the model's text, the key asked for, and what must come out: the value and the
source it was read from, or the failure reason. `T` marks whether `</think>` was present.
"""

from __future__ import annotations

import math
import os
import uuid
from typing import get_args

import pytest

from kodeio.synth.verify import CallAnswer, extract_answer, interpret_answer
from kodeio.synth.verify.extract import _FINDERS, FailReason

OK = "ok"


def case(name, text, key, expected, source_or_reason, unterminated=False):
    return pytest.param(text, key, expected, source_or_reason, unterminated, id=name)


R1_OUTPUT = """Okay, so I need to figure out the output of main_solution when n = 5.

The function computes the factorial iteratively. Let me trace it:
- result = 1
- i = 1: result = 1
- i = 2: result = 2
- i = 3: result = 6
- i = 4: result = 24
- i = 5: result = 120

Wait, let me double check. 5! = 120. Yes.
</think>

The function multiplies the numbers from 1 to n, so for n = 5 the result is 5! = 120.

```json
{"output": 120}
```"""

R1_KOREAN = """<think>
좋아, n = 4일 때 main_solution의 출력을 구해야 한다.
팩토리얼을 반복문으로 계산하니까 1 * 2 * 3 * 4 = 24가 된다.
잠깐, 다시 확인해 보자. 4! = 24. 맞다.
</think>

함수는 1부터 n까지의 수를 곱합니다. 따라서 n = 4일 때 결과는 24입니다.

```json
{"output": 24}
```

위와 같이 최종 답은 24입니다."""

DRAFT_IN_THINK = """Let me think. Maybe the answer is {"output": [1, 2]}? No wait, the list is
reversed first, so it should be [2, 1].
</think>
The reversed list is [2, 1].

```json
{"output": [2, 1]}
```"""

ONLY_IN_THINK = """I am fairly sure the output is {"output": 7}.
</think>
"""

TRUNCATED_MID_THINK = """<think>
Let me compute step by step. First iteration: total = 3. A draft: {"output": 3}
Second iteration: total = 3 + 5 = 8. Third iteration: total = 8 + """

TRUNCATED_MID_BLOCK = """The sum is 12.
</think>

```json
{"output": [12, 13, 1"""

TRUNCATED_BLOCK_AFTER_PROSE = """Computing... </think>
So the output should be {"output": "abc"} as shown below.

```json
{"output": "abc\""""

NESTED_FENCES = """Here is how the code runs:

````markdown
```python
def main_solution(x):
    return x[::-1]
```
````
</think>
```json
{"output": "olleh"}
```"""

NESTED_SAME_LENGTH = """</think>
Answer:
```markdown
The predicted input:
```json
{"input": {"s": "hello", "k": 2}}
```
```"""

SEVERAL_BLOCKS_INPUT_RESTATED = """</think>
Given the input

```json
{"input": {"nums": [3, 1, 2]}}
```

the sorted output is:

```json
{"output": [1, 2, 3]}
```

To recap, the input was:

```json
{"input": {"nums": [3, 1, 2]}}
```"""

CODEIO_INPUT = """To get the output 10 from main_solution(a, b) = a * b, we need a * b = 10.
One feasible choice is a = 2 and b = 5.
</think>

A feasible input is a = 2, b = 5, since 2 * 5 = 10.

```json
{
  "input": {
    "a": 2,
    "b": 5
  }
}
```"""

CODEIO_INPUT_NESTED = """</think>
```json
{"input": {"matrix": [[1, 2], [3, 4]], "opts": {"transpose": true, "scale": 0.5}}}
```"""

PYTHONISH_JSON = """</think>
```json
{"output": (True, None, 'x')}
```"""

JSON_WITH_COMMENT = """</think>
```json
{"output": [1, 2, 3]}  // the list after sorting
```"""

PROSE_BRACES = """The function returns a dict.
</think>
Therefore the final answer is {"output": {"count": 3, "items": ["a", "b"]}}."""

PROSE_BRACES_STRING_WITH_BRACE = """</think>
So we get {"output": "}{ weird }"} and that is it."""

BOXED = r"""After simplifying, the value is 3/4 = 0.75.
</think>
The final answer is $\boxed{0.75}$."""

BOXED_ESCAPED_JSON = r"""</think>
$$\boxed{\{"output": [1, 2]\}}$$"""

BOXED_TEXT = r"""</think>
\boxed{\text{'hello world'}}"""

CRUX_COT_OUTPUT = """Let's execute the code step by step:
1. The function f is defined, which takes a single argument text.
2. The function is called with the argument "hi", so within the function, text is "hi".
3. The function returns text[::-1] + text, which is "ihhi".
[/THOUGHT]
[ANSWER]
assert f("hi") == "ihhi"
[/ANSWER]"""

CRUX_COT_INPUT = """We need f(??) == [1, 2]. The function sorts its argument, so [2, 1] works.
[/THOUGHT]
[ANSWER]
assert f([2, 1]) == [1, 2]
[/ANSWER]"""

CRUX_STOPPED_AT_TAG = """[THOUGHT] f appends 1 [/THOUGHT]
[ANSWER]
assert f([0]) == [0, 1]"""

FINAL_LINE_PLAIN = """The loop runs three times and adds 2 each time, starting from 1.
7"""

FINAL_LINE_CODE_SPAN = """</think>
Tracing the recursion gives the tuple below.

**Output:** `(1, 'a', None)`"""

FINAL_LINE_CALL = """I need the function to return 6, so x = 3 works because it doubles the input.
</think>
f(3)"""

FINAL_LINE_CALL_OTHER = """</think>
print(3)"""

FINAL_LINE_PROSE = """</think>
I am not able to determine the output without running the code."""

PROMPT_ECHO_NO_ANSWER = """Please reason and put your final answer in the following json format: {"output": <your output>}
</think>
Sorry, I cannot do that."""

MAIN_LOOP = """<think>
Let me see... the while loop never ends for this input, I think. Hmm."""


CASES = [
    case("r1-json-block", R1_OUTPUT, "output", 120, "json_block"),
    case("r1-korean", R1_KOREAN, "output", 24, "json_block"),
    case("draft-inside-think", DRAFT_IN_THINK, "output", [2, 1], "json_block"),
    case("answer-only-inside-think", ONLY_IN_THINK, "output", None, "no_answer"),
    case("truncated-mid-think", TRUNCATED_MID_THINK, "output", 3, "braces", unterminated=True),
    case("truncated-mid-block", TRUNCATED_MID_BLOCK, "output", None, "no_answer"),
    case("truncated-block-after-prose", TRUNCATED_BLOCK_AFTER_PROSE, "output", "abc", "braces"),
    case("nested-fences", NESTED_FENCES, "output", "olleh", "json_block"),
    case("nested-same-length", NESTED_SAME_LENGTH, "input", {"s": "hello", "k": 2}, "json_block"),
    case("several-blocks-output", SEVERAL_BLOCKS_INPUT_RESTATED, "output", [1, 2, 3], "json_block"),
    case(
        "several-blocks-input",
        SEVERAL_BLOCKS_INPUT_RESTATED,
        "input",
        {"nums": [3, 1, 2]},
        "json_block",
    ),
    case("codeio-input", CODEIO_INPUT, "input", {"a": 2, "b": 5}, "json_block"),
    case(
        "codeio-input-nested",
        CODEIO_INPUT_NESTED,
        "input",
        {"matrix": [[1, 2], [3, 4]], "opts": {"transpose": True, "scale": 0.5}},
        "json_block",
    ),
    case("codeio-input-asked-output", CODEIO_INPUT, "output", None, "wrong_key"),
    case("pythonish-json", PYTHONISH_JSON, "output", (True, None, "x"), "json_block"),
    case("json-with-comment", JSON_WITH_COMMENT, "output", [1, 2, 3], "json_block"),
    case(
        "prose-braces",
        PROSE_BRACES,
        "output",
        {"count": 3, "items": ["a", "b"]},
        "braces",
    ),
    case("prose-brace-in-string", PROSE_BRACES_STRING_WITH_BRACE, "output", "}{ weird }", "braces"),
    case("boxed-number", BOXED, "output", 0.75, "boxed"),
    case("boxed-escaped-json", BOXED_ESCAPED_JSON, "output", [1, 2], "boxed"),
    case("boxed-text", BOXED_TEXT, "output", "hello world", "boxed"),
    case("crux-cot-output", CRUX_COT_OUTPUT, "output", "ihhi", "answer_tag", unterminated=True),
    case(
        "crux-cot-input",
        CRUX_COT_INPUT,
        "input",
        CallAnswer("f", "[2, 1]"),
        "answer_tag",
        unterminated=True,
    ),
    case(
        "crux-stopped-at-tag",
        CRUX_STOPPED_AT_TAG,
        "output",
        [0, 1],
        "answer_tag",
        unterminated=True,
    ),
    case("final-line-plain", FINAL_LINE_PLAIN, "output", 7, "final_line", unterminated=True),
    case("final-line-code-span", FINAL_LINE_CODE_SPAN, "output", (1, "a", None), "final_line"),
    case("final-line-call", FINAL_LINE_CALL, "input", CallAnswer("f", "3"), "final_line"),
    case(
        "final-line-call-other",
        FINAL_LINE_CALL_OTHER,
        "input",
        CallAnswer("print", "3"),
        "final_line",
    ),
    case("final-line-prose", FINAL_LINE_PROSE, "output", None, "no_answer"),
    case("prompt-echo-only", PROMPT_ECHO_NO_ANSWER, "output", None, "no_answer"),
    case("unterminated-no-answer", MAIN_LOOP, "output", None, "no_answer", unterminated=True),
    # ---- short forms -------------------------------------------------------------------
    case("json-bare-list", "</think>\n```json\n[1, 2, 3]\n```", "output", [1, 2, 3], "json_block"),
    case(
        "json-bare-object-is-wrong-key",
        '</think>\n```json\n{"a": 1}\n```',
        "output",
        None,
        "wrong_key",
    ),
    case(
        "json-block-unparsable",
        "</think>\n```json\n{output: [1, 2}\n```",
        "output",
        None,
        "unparsable",
    ),
    case(
        "two-objects-in-one-block",
        '</think>\n```json\n{"output": 1}\n{"output": 2}\n```',
        "output",
        2,
        "json_block",
    ),
    case(
        "json-nan-infinity",
        '</think>```json\n{"output": [NaN, Infinity, -Infinity]}\n```',
        "output",
        [math.nan, math.inf, -math.inf],
        "json_block",
    ),
    case(
        "python-nan",
        "</think>{'output': [nan, float('inf')]}",
        "output",
        [math.nan, math.inf],
        "braces",
    ),
    case(
        "int-keyed-dict",
        "</think>{'output': {1: 'a', 2: (3, 4)}}",
        "output",
        {1: "a", 2: (3, 4)},
        "braces",
    ),
    case("set-output", "</think>{'output': {3, 1, 2}}", "output", {1, 2, 3}, "braces"),
    case(
        "bytes-output",
        "</think>The function returns bytes.\n{'output': b'\\x00ab'}",
        "output",
        b"\x00ab",
        "braces",
    ),
    case(
        "big-int",
        '</think>```json\n{"output": 123456789012345678901234567890}\n```',
        "output",
        123456789012345678901234567890,
        "json_block",
    ),
    case(
        "unicode-korean-string",
        '</think>\n```json\n{"output": "안녕하세요 세계"}\n```\n출력은 위와 같습니다.',
        "output",
        "안녕하세요 세계",
        "json_block",
    ),
    case(
        "korean-final-line",
        "</think>\n계산하면 3 + 4 = 7이 됩니다.\n따라서 답은 7입니다.",
        "output",
        7,
        "final_line",
    ),
    case(
        "code-in-answer-is-unparsable",
        '</think>{"output": __import__("os").system("id")}',
        "output",
        None,
        "unparsable",
    ),
    case(
        "input-bare-args-line",
        "</think>\nThe input is: [3, 1], 2",
        "input",
        CallAnswer(None, "[3, 1], 2"),
        "final_line",
    ),
    case(
        "input-kwargs-line",
        "</think>\nx=[1, 2], reverse=True",
        "input",
        CallAnswer(None, "x=[1, 2], reverse=True"),
        "final_line",
    ),
    case(
        "input-call-in-python-block",
        "</think>\n```python\nf('abc', n=2)\n```",
        "input",
        CallAnswer("f", "'abc', n=2"),
        "final_line",
    ),
    case(
        "input-block-asked-output-key",
        '</think>\n```json\n{"output": 5}\n```',
        "input",
        None,
        "wrong_key",
    ),
    case("empty-text", "", "output", None, "no_answer", unterminated=True),
    case("only-think-close", "</think>", "output", None, "no_answer"),
]


@pytest.mark.parametrize(("text", "key", "expected", "source_or_reason", "unterminated"), CASES)
def test_extraction_table(text, key, expected, source_or_reason, unterminated):
    ext = extract_answer(text, key)
    assert ext.unterminated is unterminated
    if source_or_reason in ("no_answer", "unparsable", "wrong_key"):
        assert not ext.ok, ext
        assert ext.reason == source_or_reason, ext
        return
    assert ext.ok, ext
    assert ext.reason is None
    assert ext.source == source_or_reason, ext
    assert _same(ext.value, expected), (ext.value, expected)


def test_table_covers_every_source_and_failure_reason():
    # A finder or failure reason added to extract.py without a row here fails this test.
    outcomes = {c.values[3] for c in CASES}
    assert {source for source, _ in _FINDERS} <= outcomes, outcomes
    assert set(get_args(FailReason)) <= outcomes, outcomes
    for key in ("output", "input"):
        for unterminated in (False, True):
            assert any(c.values[1] == key and c.values[4] is unterminated for c in CASES), (
                key,
                unterminated,
            )


def _same(a, b) -> bool:
    """Equality that also checks types and treats NaN as equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def test_reasoning_is_text_before_the_last_think_close():
    ext = extract_answer("<think>\nstep one\n</think>\nmore </think>\n{'output': 1}", "output")
    assert ext.reasoning == "step one\n</think>\nmore"
    assert ext.ok and ext.value == 1 and not ext.unterminated


def test_reasoning_of_r1_trace_keeps_the_korean_chain_of_thought():
    ext = extract_answer(R1_KOREAN, "output")
    assert ext.reasoning.startswith("좋아, n = 4일 때")
    assert ext.reasoning.endswith("맞다.")
    assert ext.answer_text == '{"output": 24}'


def test_extraction_never_executes_code(tmp_path):
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    payloads = [
        f'</think>{{"output": open("{marker}", "w").write("x")}}',
        f"</think>\\boxed{{__import__('pathlib').Path('{marker}').touch()}}",
        f"</think>[ANSWER]assert f(1) == open('{marker}', 'w')[/ANSWER]",
        f"</think>\nexec(\"open('{marker}', 'w')\")",
    ]
    for text in payloads:
        out = extract_answer(text, "output")
        assert not out.ok and out.reason in ("unparsable", "no_answer"), out
        inp = extract_answer(text, "input")
        # An input written as code is only ever a CallAnswer: source for the sandbox to run.
        assert not inp.ok or isinstance(inp.value, CallAnswer), inp
    assert not os.path.exists(marker)


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("'abc'", "output", "abc"),
        ("[1, (2, 3)]", "output", [1, (2, 3)]),
        ("f(1, 2)", "input", CallAnswer("f", "1, 2")),
        ("f(*[1, 2])", "input", CallAnswer("f", "*[1, 2]")),
        ("  f('a b', k=[1])  ", "input", CallAnswer("f", "'a b', k=[1]")),
        ("1, 'x'", "input", CallAnswer(None, "1, 'x'")),
        ("(1, 'x')", "input", (1, "x")),
        ("{'a': 1}", "input", {"a": 1}),
    ],
)
def test_interpret_answer_reads_answers_given_directly(text, key, expected):
    ext = interpret_answer(text, key)
    assert ext.ok and ext.source == "answer"
    assert _same(ext.value, expected), ext.value


def test_interpret_answer_refuses_expressions_as_outputs():
    ext = interpret_answer("'a' * 3", "output")
    assert not ext.ok and ext.reason == "unparsable"


def test_unknown_key_is_a_programming_error():
    with pytest.raises(ValueError):
        extract_answer("x", "result")  # type: ignore[arg-type]
