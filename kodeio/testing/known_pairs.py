"""I/O pairs with known answers, and a scripted model that knows them: the synthesis tests'
shared data (`ScriptedBackend(known_answers)` plays the teacher without a model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kodeio.llm.base import GenRequest

# Three functions with known ground truth, in both value policies.
PAIRS: list[dict[str, Any]] = [
    {
        "id": "double-3",
        "seed_id": "double",
        "code": "def f(n):\n    return n * 2\n",
        "entry": "f",
        "input": {"args": [], "kwargs": {"n": 3}},
        "input_repr": "n=3",
        "output": 6,
        "output_repr": "6",
        "policy": "json",
        "problem_description": "Double a number.",
    },
    {
        "id": "sort-1",
        "seed_id": "sort",
        "code": "def main_solution(xs):\n    return sorted(xs)\n",
        "entry": "main_solution",
        "input": {"args": [], "kwargs": {"xs": [3, 1, 2]}},
        "input_repr": "xs=[3, 1, 2]",
        "output": [1, 2, 3],
        "output_repr": "[1, 2, 3]",
        "policy": "json",
    },
    {
        "id": "crux-1",
        "seed_id": "crux",
        "code": "def f(s):\n    return s.upper(), len(s)\n",
        "entry": "f",
        "input": "'ab'",
        "input_repr": "'ab'",
        "output": ["AB", 2],
        "output_repr": "('AB', 2)",
        "policy": "python",
    },
]


def json_answer(key: str, value: str, reasoning: str = "Let me trace the code.") -> str:
    return f'{reasoning}\n</think>\n\nThe answer:\n```json\n{{"{key}": {value}}}\n```'


def turn_of(request: GenRequest) -> int:
    return sum(1 for m in request.messages if m["role"] == "user")


def prompt_of(request: GenRequest) -> str:
    return (
        request.messages[0]["content"]
        if request.messages[0]["role"] == "user"
        else request.messages[1]["content"]
    )


def known_answers(request: GenRequest, sample: int) -> str:
    """A scripted 'model' with a fixed behaviour per (pair, mode, turn):

    double/output: right at once            -> verified_first
    double/input:  n=2 then n=3             -> verified_revised (feedback shows 4)
    sort/output:   wrong twice              -> failed
    sort/input:    unparsable, then right   -> verified_revised
    crux/output:   right (a tuple literal)  -> verified_first
    crux/input:    right as a call          -> verified_first
    """
    prompt = prompt_of(request)
    turn = turn_of(request)
    output_mode = "predict the exact value" in prompt
    if "return n * 2" in prompt:
        if output_mode:
            return json_answer("output", "6", "n is 3, so 3 * 2 = 6.")
        return json_answer("input", '{"n": 2}' if turn == 1 else '{"n": 3}')
    if "sorted(xs)" in prompt:
        if output_mode:
            return json_answer("output", "[3, 2, 1]" if turn == 1 else "[2, 1, 3]")
        if turn == 1:
            return 'I think it is xs = [1, 2, 3\n</think>\n\n```json\n{"input": {"xs": [1, 2\n```'
        return json_answer("input", '{"xs": [2, 3, 1]}')
    if "s.upper()" in prompt:
        if output_mode:
            return json_answer("output", "('AB', 2)")
        return "Uppercase of ab is AB.\n</think>\n\n[ANSWER] f('ab') [/ANSWER]"
    return "no idea\n</think>\n\nnothing"


def write_pairs(path: Path, pairs: list[dict[str, Any]] | None = None) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in (pairs or PAIRS)), encoding="utf-8")
    return path
