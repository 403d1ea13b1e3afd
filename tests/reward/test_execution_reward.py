"""ExecutionReward on completions written here, judged through the real sandbox."""

from __future__ import annotations

import json
import pickle
import uuid
from pathlib import Path

import pytest

from kodeio.errors import InputError
from kodeio.reward import ExecutionReward, FormatReward, compute_score

DOUBLE = "def f(x):\n    return x * 2\n"
THIRD = "def f(x):\n    return x / 3\n"
LOOP = "def f(x):\n    while True:\n        x += 1\n"
ALLOC = "def f(n):\n    return len([0] * n)\n"
KW = "def main_solution(a, b):\n    return a - b\n"


def info(code=DOUBLE, mode="output", inp=None, output=42, **kw) -> dict:
    return {
        "code": code,
        "entry": kw.pop("entry", "f"),
        "mode": mode,
        "input": inp if inp is not None else {"args": [21], "kwargs": {}},
        "output": output,
        **kw,
    }


def answer(key: str, value: str, thought: str = "x doubles") -> str:
    return f'<think>{thought}</think>\n```json\n{{"{key}": {value}}}\n```'


CASES = [
    pytest.param(answer("output", "42"), info(), 1.0, "match", id="output-right"),
    pytest.param(answer("output", "41"), info(), 0.0, "mismatch", id="output-wrong"),
    pytest.param(answer("input", "21"), info(mode="input"), 1.0, "match", id="input-right"),
    pytest.param(answer("input", "20"), info(mode="input"), 0.0, "mismatch", id="input-wrong"),
    pytest.param(
        "<think>it doubles</think>\nThe answer is forty-two.",
        info(),
        0.0,
        "no_answer",
        id="unparsable-prose",
    ),
    pytest.param(
        '<think>ok</think>\n```json\n{"output": [1, 2\n```',
        info(),
        0.0,
        "unparsable",
        id="unparsable-json",
    ),
    pytest.param(
        "<think>Let me trace f. x is 21, so x * 2 is",
        info(),
        0.0,
        "no_answer",
        id="truncated",
    ),
    pytest.param(
        answer("output", "42", "함수 f는 x를 두 배로 만듭니다. 21을 넣으면 42가 됩니다."),
        info(),
        1.0,
        "match",
        id="korean-trace",
    ),
    pytest.param(
        answer("output", "0.33333334"),
        info(THIRD, inp={"args": [1.0], "kwargs": {}}, output=1 / 3),
        1.0,
        "match",
        id="float-within-tolerance",
    ),
    pytest.param(
        answer("output", "0.3334"),
        info(THIRD, inp={"args": [1.0], "kwargs": {}}, output=1 / 3),
        0.0,
        "mismatch",
        id="float-outside-tolerance",
    ),
    pytest.param(
        answer("input", '{"a": 10, "b": 3}'),
        info(KW, mode="input", entry="main_solution", inp={"args": [], "kwargs": {}}, output=7),
        1.0,
        "match",
        id="codeio-kwargs-input",
    ),
    pytest.param(
        "<think>f doubles; f(21) is 42</think>\nf(21)",
        info(mode="input"),
        1.0,
        "match",
        id="literal-call-input",
    ),
]


@pytest.mark.parametrize(("text", "vinfo", "score", "reason"), CASES)
def test_scores(reward: ExecutionReward, text, vinfo, score, reason) -> None:
    assert reward(prompts=["p"], completions=[text], verification_info=[vinfo]) == [score]
    assert reward.last_verdicts[0].reason == reason


def test_column_lists_and_chat_completions_in_one_batch(reward: ExecutionReward) -> None:
    """TRL passes every column as a list, completions as chat messages in conversational data."""
    texts = [answer("output", "42"), answer("input", "21"), answer("input", "5"), "no answer"]
    infos = [info(), info(mode="input"), info(mode="input"), info()]
    chats = [[{"role": "assistant", "content": t}] for t in texts]
    prompts = [[{"role": "user", "content": "predict"}]] * 4
    expected = [1.0, 1.0, 0.0, 0.0]
    assert reward(prompts, chats, verification_info=infos, pair_id=["a"] * 4) == expected
    as_json = [json.dumps(i) for i in infos]  # verl stores ground truth as a string
    assert reward(prompts=prompts, completions=texts, verification_info=as_json) == expected


def test_hostile_input_is_refused_and_never_run(reward: ExecutionReward, tmp_path: Path) -> None:
    """Code in the predicted arguments could forge its own result: not run at all."""
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    text = f"<think>hmm</think>\nf(open({str(marker)!r}, 'w').write('x') and 21)"
    assert reward(["p"], [text], verification_info=[info(mode="input")]) == [0.0]
    assert reward.last_verdicts[0].reason == "non_literal_input"
    assert not marker.exists()


@pytest.mark.parametrize(
    ("vinfo", "text", "reason"),
    [
        (info(LOOP, mode="input"), "<think>x</think>\nf(1)", "timeout"),
        (info(ALLOC, mode="input", output=3), "<think>x</think>\nf(10**10)", "non_literal_input"),
        (info(ALLOC, mode="input", output=3), "<think>x</think>\nf(10000000000)", "memory"),
    ],
    ids=["endless-loop", "code-size", "memory-bomb"],
)
def test_hostile_inputs_score_zero_and_leave_the_sandbox_healthy(
    reward: ExecutionReward, vinfo, text, reason
) -> None:
    assert reward(["p"], [text], verification_info=[vinfo]) == [0.0]
    assert reward.last_verdicts[0].reason == reason
    assert reward(["p"], [answer("input", "21")], verification_info=[info(mode="input")]) == [1.0]


def test_trusting_model_code_runs_it_contained(reward_config, tmp_path: Path) -> None:
    """With trust_model_code the hostile call runs, in the sandbox: the host file is untouched."""
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    text = f"<think>hmm</think>\nf(open({str(marker)!r}, 'w').write('x') and 21)"
    trusting = ExecutionReward(reward_config, trust_model_code=True)
    try:
        assert trusting(["p"], [text], verification_info=[info(mode="input")]) == [0.0]
        assert trusting.last_verdicts[0].reason.startswith("exec_error:")
        assert not marker.exists()
        assert trusting(["p"], ["</think>\nf(21)"], verification_info=[info(mode="input")]) == [1.0]
    finally:
        trusting.close()


def test_cruxeval_rules_are_ignored_unless_model_code_is_trusted(reward: ExecutionReward) -> None:
    """A CRUXEval expression check would evaluate `42 == <model text>` in the sandbox."""
    vinfo = info(inp="21", policy="python", output_repr="42", cruxeval_rules=True)
    vinfo.pop("output")
    assert reward(["p"], ["</think>\n[ANSWER] 40 + 2 [/ANSWER]"], verification_info=[vinfo]) == [
        0.0
    ]
    assert reward.last_verdicts[0].reason == "unparsable"


def test_format_bonus_is_off_by_default_and_added_for_a_closed_think(reward_config) -> None:
    with_bonus = ExecutionReward(reward_config, format_bonus=0.1)
    right, wrong = answer("output", "42"), answer("output", "7")
    no_think = '```json\n{"output": 42}\n```'
    texts = [right, wrong, no_think, "<think>a</think><think>b</think> 42"]
    assert with_bonus.score(texts, [info()] * 4) == [1.1, 0.1, 1.0, 1.0]
    assert ExecutionReward(reward_config).score(texts, [info()] * 4) == [1.0, 0.0, 1.0, 1.0]


def test_require_think_scores_a_cut_off_draft_zero(reward_config) -> None:
    draft = '<think>maybe {"output": 42}, let me check again whether'
    assert ExecutionReward(reward_config).score([draft], [info()]) == [1.0]
    assert ExecutionReward(reward_config, require_think=True).score([draft], [info()]) == [0.0]


def test_pickling_round_trip_reopens_the_sandbox(reward: ExecutionReward) -> None:
    reward(["p"], [answer("input", "21")], verification_info=[info(mode="input")])
    copy = pickle.loads(pickle.dumps(reward))
    assert copy.config == reward.config
    try:
        texts = [answer("input", "21"), answer("input", "3")]
        assert copy(["p", "p"], texts, verification_info=[info(mode="input")] * 2) == [1.0, 0.0]
        assert copy.sandbox() is not reward.sandbox()
    finally:
        copy.close()


def test_bad_verification_info_is_one_clear_error(reward: ExecutionReward) -> None:
    with pytest.raises(InputError, match=r"verification_info\[0\]: unknown key 'answer'"):
        reward(["p"], ["x"], verification_info=[{**info(), "answer": 1}])
    with pytest.raises(InputError, match=r"verification_info:0: missing key 'code'"):
        reward(["p"], ["x"], verification_info=[{"entry": "f", "mode": "output", "output": 1}])
    with pytest.raises(TypeError, match="verification_info"):
        reward(["p"], ["x"])


def test_verl_compute_score() -> None:
    from kodeio.reward.verl import shared_reward

    truth = json.dumps(info(mode="input"))
    try:
        assert compute_score("kodeio", answer("input", "21"), truth, {"split": "train"}) == 1.0
        assert compute_score("kodeio", answer("input", "20"), info(mode="input")) == 0.0
    finally:  # verl keeps it for the whole process; a test suite must not
        shared_reward().close()
        shared_reward.cache_clear()


def test_format_reward_and_verified_counts(reward: ExecutionReward) -> None:
    texts = [answer("output", "42"), answer("output", "7"), "<think>cut off", "42"]
    assert FormatReward()(["p"] * 4, texts, verification_info=[info()] * 4) == [1, 1, 0, 0]
    reward.take_counts()
    reward(["p"] * 4, texts, verification_info=[info()] * 4)
    assert reward.take_counts() == (2, 4)
    assert reward.take_counts() == (0, 0)
