"""CodeI/O++ bookkeeping: turns, execution feedback, statuses and the two SFT forms.

A sample is a conversation: the prediction prompt, the model's completion, and -- when the
answer is wrong or unreadable -- feedback built from execution and another completion, up
to `revisions` extra turns. Feedback never reveals the expected answer: for output
prediction it says the prediction is wrong; for input prediction it shows what the
predicted input really produced.

Two SFT forms are exported:
- `multi`: the conversation as it happened (each assistant turn keeps its `<think>`);
- `single`: one assistant response; the turns are joined inside one `<think>` by a short
  bridging self-check, and the final answer follows `</think>`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from kodeio.sandbox.values import literal_repr
from kodeio.synth.prompts import render

THINK_CLOSE = "</think>"
Status = Literal["verified_first", "verified_revised", "failed"]
STATUSES: tuple[Status, ...] = ("verified_first", "verified_revised", "failed")

# Reasons set here (before or instead of verification).
TRUNCATED = "truncated"  # the completion hit max_tokens before closing </think>
BACKEND_ERROR = "backend_error"  # the engine refused the request (e.g. prompt too long)
EXTRACTION_REASONS = ("no_answer", "unparsable", "wrong_key")


@dataclass
class Turn:
    completion: str
    finish_reason: str
    completion_tokens: int
    prompt_tokens: int
    answer: str | None  # the extracted answer as shown to the model, or None
    correct: bool
    reason: str
    produced: str | None = None  # input mode: what the predicted input really returned
    error: str | None = None
    feedback: str | None = None  # the user message that followed this turn, if any

    def to_row(self) -> dict[str, Any]:
        return {
            "completion": self.completion,
            "answer": self.answer,
            "verdict": {
                "correct": self.correct,
                "reason": self.reason,
                "produced": self.produced,
                "error": self.error,
            },
            "feedback": self.feedback,
            "finish_reason": self.finish_reason,
            "tokens": {"prompt": self.prompt_tokens, "completion": self.completion_tokens},
        }


@dataclass
class Sample:
    """One sample's life: the prompt, then alternating completions and feedback."""

    prompt: str
    mode: str
    entry: str
    language: str
    input_style: str = "kwargs"  # how input answers are asked for: a kwargs object or a call
    turns: list[Turn] = field(default_factory=list)

    @property
    def status(self) -> Status:
        for i, turn in enumerate(self.turns):
            if turn.correct:
                return "verified_first" if i == 0 else "verified_revised"
        return "failed"

    @property
    def done(self) -> bool:
        return bool(self.turns) and (self.turns[-1].correct or self.turns[-1].feedback is None)

    def conversation(self) -> list[dict[str, str]]:
        """The chat so far: what the next request is built from, and the multi-turn form."""
        messages = [{"role": "user", "content": self.prompt}]
        for turn in self.turns:
            messages.append({"role": "assistant", "content": assistant_content(turn, self.mode)})
            if turn.feedback is not None and not turn.correct:
                messages.append({"role": "user", "content": turn.feedback})
        return messages


def split_completion(text: str) -> tuple[str, str, bool]:
    """(reasoning, answer region, terminated): reasoning is the text before the last </think>."""
    body = text.lstrip()
    if body.startswith("<think>"):
        body = body[len("<think>") :]
    cut = body.rfind(THINK_CLOSE)
    if cut < 0:
        return body.strip(), "", False
    return body[:cut].strip(), body[cut + len(THINK_CLOSE) :].strip(), True


def show_value(value: Any) -> str:
    """A value as the model should read it: JSON when exact, else a Python literal."""
    try:
        if not _has_nonfinite(value):
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        pass
    return literal_repr(value)


def _has_nonfinite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list | tuple):
        return any(_has_nonfinite(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nonfinite(v) for v in value.values())
    return False


def answer_block(mode: str, answer: str) -> str:
    return f'```json\n{{"{mode}": {answer}}}\n```'


def assistant_content(turn: Turn, mode: str) -> str:
    """`<think>\\n reasoning \\n</think>\\n\\n answer`, the R1 training format.

    A completion that never closed `</think>` but stopped normally (a model without a
    thinking phase) keeps its whole text as reasoning and gets the extracted answer as a
    json block after `</think>`, so every exported turn has the same shape.
    """
    reasoning, answer, terminated = split_completion(turn.completion)
    if not terminated and turn.answer is not None:
        answer = answer_block(mode, turn.answer)
    if not answer:
        return f"<think>\n{reasoning}\n</think>"
    return f"<think>\n{reasoning}\n</think>\n\n{answer}"


def feedback_text(sample: Sample, turn: Turn) -> str:
    return render(
        "feedback",
        sample.language,
        reason=turn.reason,
        mode=sample.mode,
        entry=sample.entry,
        predicted=turn.answer if turn.answer is not None else "(none)",
        produced=turn.produced,
        error=turn.error,
        input_style=sample.input_style,
    )


def needs_revision(turn: Turn) -> bool:
    """Wrong or unreadable answers get another turn; engine refusals do not."""
    return not turn.correct and turn.reason != BACKEND_ERROR


def bridge_text(sample: Sample, turn: Turn) -> str:
    return render(
        "bridge",
        sample.language,
        reason=turn.reason,
        mode=sample.mode,
        entry=sample.entry,
        predicted=turn.answer if turn.answer is not None else "(none)",
        produced=turn.produced,
        error=turn.error,
    )


def multi_turn_messages(sample: Sample) -> list[dict[str, str]]:
    """The conversation up to (and including) the first correct turn."""
    messages = [{"role": "user", "content": sample.prompt}]
    for turn in sample.turns:
        messages.append({"role": "assistant", "content": assistant_content(turn, sample.mode)})
        if turn.correct or turn.feedback is None:
            break
        messages.append({"role": "user", "content": turn.feedback})
    return messages


def single_response_messages(sample: Sample) -> list[dict[str, str]]:
    """All turns as one response: reasoning, bridge, reasoning, ... </think> final answer."""
    parts: list[str] = []
    final_answer = ""
    kept = []
    for turn in sample.turns:
        kept.append(turn)
        if turn.correct or turn.feedback is None:
            break
    for i, turn in enumerate(kept):
        content = assistant_content(turn, sample.mode)
        reasoning, answer, _ = split_completion(content)
        parts.append(reasoning)
        if i < len(kept) - 1:
            parts.append(bridge_text(sample, turn))
        final_answer = answer
    think = "\n\n".join(p for p in parts if p)
    body = f"<think>\n{think}\n</think>\n\n{final_answer}".rstrip()
    return [{"role": "user", "content": sample.prompt}, {"role": "assistant", "content": body}]


def sample_from_row(row: dict[str, Any]) -> Sample:
    """Rebuild a Sample from a trace row (for export and stats)."""
    messages = row["messages"]
    sample = Sample(
        prompt=messages[0]["content"],
        mode=row["mode"],
        entry=row.get("entry", "f"),
        language=row.get("reasoning_language", "en"),
        input_style=row.get("input_style", "kwargs"),
    )
    for t in row["turns"]:
        verdict = t.get("verdict", {})
        tokens = t.get("tokens", {})
        sample.turns.append(
            Turn(
                completion=t["completion"],
                finish_reason=t.get("finish_reason", "stop"),
                completion_tokens=int(tokens.get("completion", 0)),
                prompt_tokens=int(tokens.get("prompt", 0)),
                answer=t.get("answer"),
                correct=bool(verdict.get("correct")),
                reason=str(verdict.get("reason", "")),
                produced=verdict.get("produced"),
                error=verdict.get("error"),
                feedback=t.get("feedback"),
            )
        )
    return sample
