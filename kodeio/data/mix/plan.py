"""`build_mix`: read, dedup, length-filter, split, sample and shuffle (everything but writing).

The steps, in order (each random choice is seeded from `config.seed` and a fixed key):

1. every source's rows, deduplicated against all earlier rows (sources in config order),
   token-counted and length-filtered: the unique rows of each source;
2. rows per source (train + eval) from the ratios/counts (`plan_targets`);
3. per source, a seeded permutation of its unique rows: the first ones are eval, train is
   sampled (or upsampled, copies capped) from the rest (`take`);
4. each split shuffled; token statistics per source and split.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kodeio.data.formatting import seeded_rng
from kodeio.data.mix.config import SPLITS, MixConfig, Source
from kodeio.data.mix.sources import Sample, iter_source
from kodeio.data.mix.stats import SourceReport, mix_stats
from kodeio.errors import ConfigError, InputError

if TYPE_CHECKING:
    from kodeio.data.mix.replay import ShardReplay

# (sample, None), or in a merge (sample, (dedup key, MinHash values)) from a shard
SignedRows = Iterator[tuple[Sample, tuple[bytes, Any] | None]]


@dataclass
class MixResult:
    splits: dict[str, list[Sample]]
    reports: list[SourceReport]
    stats: dict[str, Any]


def build_mix(config: MixConfig, replay: ShardReplay | None = None) -> MixResult:
    """Everything but writing: read, dedup, filter, split, sample, shuffle. With `replay`
    (a merge), dedup keys, signatures and token counts come from the shards."""
    counter = token_counter(config) if replay is None else None
    dedup = deduplicator(config)
    reports = [
        SourceReport(
            s.name,
            s.kind,
            s.license,
            keep_language_mismatch=getattr(s, "keep_language_mismatch", False),
        )
        for s in config.sources
    ]
    for source, report in zip(config.sources, reports, strict=True):
        traces_file = getattr(source, "traces_file", None)
        if traces_file is not None:
            report.yield_by_turn = _yield_by_turn(traces_file)
    unique = _unique_rows(config, reports, dedup, counter, replay)
    targets, capped = plan_targets(config, {k: len(v) for k, v in unique.items()})
    splits: dict[str, list[Sample]] = {split: [] for split in SPLITS}
    for source, report in zip(config.sources, reports, strict=True):
        report.target, report.capped = targets[source.name], capped[source.name]
        train_rows, eval_rows = _split_source(config, source, unique[source.name], report)
        splits["train"].extend(train_rows)
        splits["eval"].extend(eval_rows)
    for split in SPLITS:
        seeded_rng(config.seed, f"shuffle\x1f{split}").shuffle(splits[split])
    _record_token_stats(reports, splits)
    return MixResult(splits, reports, mix_stats(config, splits, reports, dedup))


def _yield_by_turn(traces_file: Any) -> dict[str, Any]:
    from kodeio.synth.traces import compute_stats

    st = compute_stats(traces_file)
    turns = {str(turn): n for turn, n in sorted(st.verified_by_turn.items())}
    return {"traces": st.traces, "verified_by_turn": turns}


# ---------------------------------------------------------------- step 1: unique rows


def near_dedup_enabled(config: MixConfig, source: Source) -> bool:
    if not config.dedup.near:
        return False
    if source.near_dedup is not None:
        return source.near_dedup
    return source.kind != "traces"


def token_counter(config: MixConfig) -> Any:
    if not config.length.tokenizer:
        return None
    from kodeio.data.tokens import TokenCounter

    return TokenCounter(config.length.tokenizer, config.length.message_overhead)


def deduplicator(config: MixConfig) -> Any:
    from kodeio.data.dedup import Deduplicator

    return Deduplicator(
        exact=config.dedup.exact,
        near=config.dedup.near,
        threshold=config.dedup.threshold,
        num_perm=config.dedup.num_perm,
        ngram=config.dedup.ngram,
        seed=config.seed + 1,
    )


def _unique_rows(
    config: MixConfig,
    reports: list[SourceReport],
    dedup: Any,
    counter: Any,
    replay: ShardReplay | None,
) -> dict[str, list[Sample]]:
    """Per source, its rows left after dedup (against every earlier row) and length filter."""
    from kodeio.progress import progress_bar

    unique: dict[str, list[Sample]] = {}
    with progress_bar("mixing sources", total=len(config.sources)) as bar:
        for number, (source, report) in enumerate(zip(config.sources, reports, strict=True)):
            bar.update(0, info=source.name)
            rows: SignedRows
            if replay is None:
                samples = iter_source(source, config.seed, config.think_missing)
                rows = ((sample, None) for sample in samples)
            else:
                rows = replay.rows(number, source)
            kept = _deduplicate(rows, dedup, near_dedup_enabled(config, source), report)
            if counter is not None:
                lengths = counter.count([s.messages for s in kept])
                for s, n in zip(kept, lengths, strict=True):
                    s.num_tokens = n
            kept = _length_filter(config, kept, report)
            if not kept:
                where = getattr(source, "path", None) or source.dataset.label  # type: ignore[union-attr]
                raise InputError(
                    f"source '{source.name}' ({where}): no rows left after dedup and length filtering "
                    f"(read {report.read}, duplicates {report.duplicates_exact + report.duplicates_near}, "
                    f"length-filtered {report.length_filtered})"
                )
            report.unique = len(kept)
            unique[source.name] = kept
            bar.advance(0)
    return unique


def _deduplicate(rows: SignedRows, dedup: Any, near: bool, report: SourceReport) -> list[Sample]:
    kept: list[Sample] = []
    for sample, signature in rows:
        report.read += 1
        if sample.language_mismatch:
            report.language_mismatch += 1
            if not report.keep_language_mismatch:  # left out before dedup: claims no key
                continue
        if signature is None:
            verdict = dedup.is_duplicate(sample.dedup_text, near=near)
        else:
            verdict = dedup.replay(*signature)
        if verdict == "exact":
            report.duplicates_exact += 1
        elif verdict == "near":
            report.duplicates_near += 1
        else:
            kept.append(sample)
    return kept


def _length_filter(config: MixConfig, kept: list[Sample], report: SourceReport) -> list[Sample]:
    if not config.length.tokenizer:
        return kept
    low, high = config.length.min_tokens, config.length.max_tokens
    filtered = [
        s
        for s in kept
        if s.num_tokens >= low and (high is None or s.num_tokens <= high)  # type: ignore[operator]
    ]
    report.length_filtered = len(kept) - len(filtered)
    # Trace rows also by "mode/turn N": which synthesis turns run longer than training takes.
    left, counts = {id(s) for s in filtered}, report.length_filtered_by_turn
    for s in kept:
        if id(s) not in left and s.mode is not None and s.turn is not None:
            counts[s.length_group] = counts.get(s.length_group, 0) + 1
    return filtered


# ---------------------------------------------------------------- steps 2 and 3: targets, split


def plan_targets(
    config: MixConfig, available: dict[str, int]
) -> tuple[dict[str, int], dict[str, bool]]:
    """Rows (train + eval) per source from ratios/counts, and whether the upsampling cap bit."""
    limits = {
        s.name: math.floor(available[s.name] * (s.max_upsample or config.max_upsample))
        for s in config.sources
    }
    wanted = {s.name: s.count for s in config.sources if s.count is not None}
    targets = {name: min(n, limits[name]) for name, n in wanted.items()}
    ratio_sources = [s for s in config.sources if s.ratio is not None]
    if ratio_sources:
        share_sum = sum(s.ratio or 0 for s in ratio_sources)
        if config.total is not None:
            remaining = config.total - sum(targets.values())
            if remaining < 0:
                raise ConfigError(
                    f"total: {config.total} is less than the count sources' {sum(targets.values())} rows"
                )
        else:
            # The largest mix in these proportions that needs no upsampling.
            remaining = min(available[s.name] * share_sum / (s.ratio or 1) for s in ratio_sources)
        for s in ratio_sources:
            wanted[s.name] = round(remaining * (s.ratio or 0) / share_sum)
            targets[s.name] = min(wanted[s.name], limits[s.name])
    capped = {name: wanted[name] > limits[name] for name in wanted}
    return targets, capped


def _split_source(
    config: MixConfig, source: Source, unique: list[Sample], report: SourceReport
) -> tuple[list[Sample], list[Sample]]:
    """(train, eval) rows of one source for `report.target` rows: eval is drawn from the
    unique rows before upsampling, so eval never has a copy in train. Fills in `report`."""
    pool = seeded_rng(config.seed, f"split\x1f{source.name}").sample(unique, len(unique))
    target = report.target
    n_eval = round(config.split.eval_fraction * target)
    if config.split.eval_fraction > 0 and target >= 2 and len(pool) >= 2:
        n_eval = max(1, n_eval)
    n_eval = min(n_eval, math.floor(len(pool) * config.split.max_eval_share))
    eval_rows, train_pool = pool[:n_eval], pool[n_eval:]
    cap = source.max_upsample or config.max_upsample
    n_train = min(target - n_eval, math.floor(len(train_pool) * cap))
    train_rows = take(train_pool, n_train, f"take\x1f{source.name}", config.seed)
    report.capped = report.capped or n_train < target - n_eval
    report.upsample_factor = n_train / len(train_pool) if train_pool else 0.0
    report.rows = {"train": len(train_rows), "eval": len(eval_rows)}
    return train_rows, eval_rows


def take(pool: list[Sample], n: int, rng_key: str, seed: int) -> list[Sample]:
    """n rows from pool: a seeded sample, or whole copies plus a seeded remainder (upsampling).

    Copy k>0 of a row gets the id suffix `#k`, so ids stay unique.
    """
    if n <= 0 or not pool:
        return []
    rng = seeded_rng(seed, rng_key)
    if n <= len(pool):
        return rng.sample(pool, n)
    copies, remainder = divmod(n, len(pool))
    out: list[Sample] = []
    for k in range(copies):
        out.extend(s if k == 0 else replace(s, id=f"{s.id}#{k}") for s in pool)
    out.extend(replace(s, id=f"{s.id}#{copies}") for s in rng.sample(pool, remainder))
    return out


# ---------------------------------------------------------------- step 4: token statistics


def _record_token_stats(reports: list[SourceReport], splits: dict[str, list[Sample]]) -> None:
    from kodeio.data.card import token_stats

    for report in reports:
        for split in SPLITS:
            report.tokens[split] = token_stats(
                [s.num_tokens for s in splits[split] if s.source == report.name]
            )
