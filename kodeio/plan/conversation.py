"""Synthesis and training agree on length: a full synthesized conversation fits training.

A trace with every revision turn is the prompt, one completion of up to
`synth.sampling.max_tokens` per assistant turn, and a feedback message before each revision.
The trainer drops rows longer than `train.max_seq_length` (over_length: drop), so a recipe
whose longest conversation is longer pays for tokens it then throws away, and it throws
away the revised traces first.
"""

from __future__ import annotations

from kodeio.plan.arithmetic import Figure
from kodeio.plan.report import StageReport

# One execution-feedback message with its chat markup (kodeio/templates/synth/feedback.*):
# the template renders to 150-230 characters; the echoed prediction or produced value and
# the chat markup take the rest.
FEEDBACK_TOKENS = 256


def conversation_tokens(prompt: int, max_tokens: int, revisions: int) -> int:
    """Longest conversation: prompt + max_tokens per assistant turn + one feedback per revision."""
    return prompt + max_tokens * (1 + revisions) + FEEDBACK_TOKENS * revisions


def largest_max_tokens(prompt: int, revisions: int, max_seq_length: int) -> int:
    """The largest max_tokens whose longest conversation still fits max_seq_length (0: none)."""
    room = max_seq_length - prompt - FEEDBACK_TOKENS * revisions
    return max(0, room // (1 + revisions))


def check_conversation_fits(
    rep: StageReport, max_tokens: int, revisions: int, max_seq_length: int, prompt: int
) -> None:
    """Add the figure (and, if it does not fit, the problem) to the synth stage's report."""
    need = conversation_tokens(prompt, max_tokens, revisions)
    rep.add(Figure(
        "longest conversation (for training)", need, "tokens",
        f"{prompt:,} prompt + {max_tokens:,} max_tokens x (1 + {revisions} revisions) + "
        f"{FEEDBACK_TOKENS} feedback x {revisions} = {need:,} "
        f"{'<=' if need <= max_seq_length else '>'} train.max_seq_length {max_seq_length:,}"))  # fmt: skip
    if need <= max_seq_length:
        return
    best = largest_max_tokens(prompt, revisions, max_seq_length)
    closest = (
        f"largest synth.sampling.max_tokens that fits: {best:,} (or train.max_seq_length {need:,})"
        if best > 0
        else f"no max_tokens fits; train.max_seq_length {need:,}"
    )
    rep.problems.append(
        f"synth: a full conversation is up to {need:,} tokens ({prompt:,} prompt + "
        f"{max_tokens:,} max_tokens x {1 + revisions} turns + {FEEDBACK_TOKENS * revisions:,} "
        f"feedback) > train.max_seq_length {max_seq_length:,}, so training would drop it; "
        f"{closest}"
    )
