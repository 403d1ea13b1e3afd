"""`FormatReward`: 1.0 for a well-formed `<think>...</think>` followed by a parsable answer.

A separate reward function, so that GRPO can weigh it apart from the execution reward
(`train.grpo.reward_weights.format`) and TRL logs it under its own name. Nothing runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kodeio.reward.score import completion_text, info_dict, well_formed
from kodeio.synth.verify import extract_answer


class FormatReward:
    __name__ = "format"

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] = (),
        verification_info: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        if verification_info is None:
            raise TypeError("FormatReward needs the dataset column verification_info")
        scores = []
        for i, (completion, info) in enumerate(zip(completions, verification_info, strict=True)):
            text = completion_text(completion)
            mode = info_dict(info, i).get("mode", "output")
            ext = extract_answer(text, mode) if mode in ("output", "input") else None
            scores.append(float(well_formed(text, ext)))
        return scores
