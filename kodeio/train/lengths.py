"""Token lengths of the training data: pick max_length from the data, report padding waste.

TRL's default max_length (1024) silently cuts R1 reasoning traces, so the length comes
from the data: the `length_percentile` (99th by default) of the tokenized conversations,
capped by `max_seq_length`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

MAX_LENGTH_SAMPLE = 20_000  # rows tokenized to estimate the percentile on big corpora


@dataclass
class LengthReport:
    rows: int
    measured: int
    p50: int
    p99: int
    longest: int
    max_length: int
    truncated_rows: int  # of the measured rows, how many exceed max_length

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def percentile(values: list[int], pct: float) -> int:
    ordered = sorted(values)
    rank = max(0, math.ceil(pct / 100 * len(ordered)) - 1)
    return ordered[min(rank, len(ordered) - 1)]


def token_lengths(
    tokenizer: Any, conversations: list[list[dict[str, str]]], template: str, seed: int
) -> list[int]:
    rows = conversations
    if len(rows) > MAX_LENGTH_SAMPLE:
        rows = random.Random(seed).sample(rows, MAX_LENGTH_SAMPLE)
    lengths = []
    for messages in rows:
        ids = tokenizer.apply_chat_template(
            messages, chat_template=template, tokenize=True, return_dict=True
        )
        lengths.append(len(ids["input_ids"]))
    return lengths


def choose_max_length(lengths: list[int], rows: int, pct: float, cap: int) -> LengthReport:
    p = percentile(lengths, pct)
    # A multiple of 8 keeps tensor-core friendly shapes and costs at most 7 tokens.
    max_length = min(cap, int(math.ceil(p / 8) * 8))
    return LengthReport(
        rows=rows,
        measured=len(lengths),
        p50=percentile(lengths, 50),
        p99=percentile(lengths, 99),
        longest=max(lengths),
        max_length=max_length,
        truncated_rows=sum(1 for n in lengths if n > max_length),
    )


@dataclass
class PaddingReport:
    """Counted on the real collated batches the trainer will see."""

    batches: int
    real_tokens: int
    padded_tokens: int  # real + padding positions computed by the model

    @property
    def waste(self) -> float:
        return 0.0 if not self.padded_tokens else 1 - self.real_tokens / self.padded_tokens

    def as_dict(self) -> dict[str, float | int]:
        return {
            "batches": self.batches,
            "real_tokens": self.real_tokens,
            "computed_tokens": self.padded_tokens,
            "padding_waste": round(self.waste, 4),
        }


def measure_padding(dataloader: Any, max_batches: int = 500) -> PaddingReport:
    """Count real vs computed token positions over up to `max_batches` collated batches."""
    batches = real = computed = 0
    for batch in dataloader:
        ids = batch["input_ids"]
        computed += ids.numel()
        if "attention_mask" in batch:
            real += int(batch["attention_mask"].sum())
        else:  # padding-free (packed) batches carry no padding at all
            real += ids.numel()
        batches += 1
        if batches >= max_batches:
            break
    return PaddingReport(batches, real, computed)
