"""Token lengths of the training data: pick max_length, apply the over-length policy,
report padding waste.

TRL's default max_length (1024) silently cuts R1 reasoning traces, so the length comes
from the data: the `length_percentile` (100th by default) of the tokenized conversations,
capped by `max_seq_length`. A row longer than that would be truncated by TRL, which cuts its
final answer and EOS (the model would learn to ramble without stopping), so by default
(`over_length: drop`) every such row is dropped and counted instead; `truncate` is opt-in.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from kodeio.errors import InputError
from kodeio.train.data import Conversations

MAX_LENGTH_SAMPLE = 20_000  # rows tokenized to estimate the percentile on big corpora


@dataclass
class LengthReport:
    rows: int
    measured: int
    p50: int
    p99: int
    longest: int
    max_length: int
    truncated_rows: int  # of the measured rows, how many TRL cuts to max_length
    over_length: str = "truncate"

    def as_dict(self) -> dict[str, int | str]:
        return dict(self.__dict__)


@dataclass
class LengthDrops:
    """Rows left out for being longer than max_length (`over_length: drop`)."""

    total: int = 0  # train + eval
    eval: int = 0
    by_group: dict[str, int] = field(default_factory=dict)  # train + eval, by row group

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "eval": self.eval, "by_group": dict(self.by_group)}

    def line(self, kept_train: int, max_length: int) -> str:
        groups = ", ".join(f"{g}: {n}" for g, n in self.by_group.items())
        return (
            f"over-length rows dropped: {self.total} ({self.total - self.eval} train, "
            f"{self.eval} eval) longer than max_length {max_length}"
            + (f" · {groups}" if groups else "")
            + f" · {kept_train} train rows left"
        )


def percentile(values: list[int], pct: float) -> int:
    ordered = sorted(values)
    rank = max(0, math.ceil(pct / 100 * len(ordered)) - 1)
    return ordered[min(rank, len(ordered) - 1)]


def token_lengths(
    tokenizer: Any,
    conversations: list[list[dict[str, str]]],
    template: str,
    seed: int,
    sample: bool = True,
) -> list[int]:
    """Rendered lengths under the training template; with `sample`, of at most
    MAX_LENGTH_SAMPLE rows (enough for a percentile), else of every row, in order."""
    rows = conversations
    if sample and len(rows) > MAX_LENGTH_SAMPLE:
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


def apply_length_policy(
    tokenizer: Any, conversations: Conversations, template: str, config: Any
) -> tuple[Conversations, LengthReport, LengthDrops]:
    """max_length from the data, then `config.over_length`: drop every train and eval row
    longer than it (all rows measured), or leave them for TRL to truncate (a sample measured).

    `config` is a TrainConfig (seed, length_percentile, max_seq_length, over_length).
    """
    drop = config.over_length == "drop"
    lengths = token_lengths(tokenizer, conversations.train, template, config.seed, sample=not drop)
    report = choose_max_length(
        lengths, len(conversations.train), config.length_percentile, config.max_seq_length
    )
    report.over_length = config.over_length
    drops = LengthDrops()
    if not drop:
        return conversations, report, drops
    limit = report.max_length
    eval_lengths = token_lengths(tokenizer, conversations.eval, template, config.seed, False)
    train, train_groups = _keep(
        conversations.train, conversations.train_groups, lengths, limit, drops
    )
    eval_rows, eval_groups = _keep(
        conversations.eval, conversations.eval_groups, eval_lengths, limit, drops
    )
    drops.eval = len(conversations.eval) - len(eval_rows)
    drops.by_group = dict(sorted(drops.by_group.items()))
    if not train:
        raise InputError(
            f"train.data: every training row is longer than max_length {limit} (the longest is "
            f"{report.longest} tokens, the shortest {min(lengths)}; max_seq_length "
            f"{config.max_seq_length}); raise train.max_seq_length or shorten the data"
        )
    report.truncated_rows = 0  # none left to truncate
    kept = Conversations(train, eval_rows, conversations.sources, train_groups, eval_groups)
    return kept, report, drops


def _keep(
    rows: list[Any], groups: list[str], lengths: list[int], limit: int, drops: LengthDrops
) -> tuple[list[Any], list[str]]:
    kept, kept_groups = [], []
    labels = groups if len(groups) == len(rows) else ["all"] * len(rows)
    for row, group, n in zip(rows, labels, lengths, strict=True):
        if n > limit:
            drops.total += 1
            drops.by_group[group] = drops.by_group.get(group, 0) + 1
        else:
            kept.append(row)
            kept_groups.append(group)
    return kept, kept_groups


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
