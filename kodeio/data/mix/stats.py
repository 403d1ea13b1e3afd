"""The mix's statistics (`mix_stats.json`, the card's numbers) and its content fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kodeio.data.mix.config import SPLITS, MixConfig
from kodeio.data.mix.sources import Sample


@dataclass
class SourceReport:
    name: str
    kind: str
    license: str | None
    read: int = 0
    duplicates_exact: int = 0
    duplicates_near: int = 0
    length_filtered: int = 0
    # Of those, trace rows by "mode/turn N" (rows without mode/turn are not in here).
    length_filtered_by_turn: dict[str, int] = field(default_factory=dict)
    unique: int = 0
    target: int = 0
    upsample_factor: float = 1.0
    capped: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, Any] = field(default_factory=dict)
    language_mismatch: int = 0  # rows read that were marked language_mismatch
    keep_language_mismatch: bool = False
    # {"traces": n, "verified_by_turn": {turn: n}} of the source's traces_file, if it has one.
    yield_by_turn: dict[str, Any] | None = None


def content_fingerprint(splits: dict[str, list[Sample]]) -> str:
    digest = hashlib.sha256()
    for split in SPLITS:
        for s in splits[split]:
            digest.update(
                json.dumps(
                    [split, s.id, s.source, s.messages, s.num_tokens], ensure_ascii=False
                ).encode("utf-8")
            )
    return digest.hexdigest()[:16]


def mix_stats(
    config: MixConfig,
    splits: dict[str, list[Sample]],
    reports: list[SourceReport],
    dedup: Any,
) -> dict[str, Any]:
    from kodeio.data.card import token_stats

    length_filter = "none"
    if config.length.tokenizer:
        length_filter = f"{config.length.min_tokens} ≤ tokens" + (
            f" ≤ {config.length.max_tokens}" if config.length.max_tokens else ""
        )
    return {
        "seed": config.seed,
        "fingerprint": content_fingerprint(splits),
        "tokenizer": Path(config.length.tokenizer).name if config.length.tokenizer else None,
        "message_overhead": config.length.message_overhead,
        "length_filter": length_filter,
        "eval_fraction": config.split.eval_fraction,
        "dedup": {
            "exact": dedup.stats.exact,
            "near": dedup.stats.near,
            "threshold": config.dedup.threshold,
            "num_perm": config.dedup.num_perm,
            "ngram": config.dedup.ngram,
        },
        "splits": {
            split: {"count": len(rows), "tokens": token_stats([s.num_tokens for s in rows])}
            for split, rows in splits.items()
        },
        "sources": [
            {
                "name": r.name,
                "kind": r.kind,
                "license": r.license,
                "read": r.read,
                "duplicates_exact": r.duplicates_exact,
                "duplicates_near": r.duplicates_near,
                "length_filtered": r.length_filtered,
                "length_filtered_by_turn": dict(sorted(r.length_filtered_by_turn.items())),
                "unique": r.unique,
                "target": r.target,
                "upsample_factor": round(r.upsample_factor, 4),
                "capped": r.capped,
                "rows": r.rows,
                "tokens": r.tokens,
            }
            for r in reports
        ],
        **quality_stats(splits, reports, config.card.removed),
    }


def removed_counts(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Seeds removed by `kodeio io clean`, counted per (reason, benchmark, method), from its
    CLEAN.removed.jsonl files (read by their documented schema only)."""
    from kodeio.errors import InputError
    from kodeio.files import iter_jsonl

    counts: dict[tuple[str, str, str], int] = {}
    for path in paths:
        for lineno, row in iter_jsonl(path, required=("seed_id", "reason", "method")):
            matched = row.get("matched")
            if matched is not None and not isinstance(matched, dict):
                raise InputError(f"{path}:{lineno}: key 'matched' must be an object or null")
            source = str((matched or {}).get("source") or "–")
            key = (str(row["reason"]), source, str(row["method"]))
            counts[key] = counts.get(key, 0) + 1
    return [
        {"reason": reason, "benchmark": source, "method": method, "seeds": n}
        for (reason, source, method), n in sorted(counts.items())
    ]


def quality_stats(
    splits: dict[str, list[Sample]], reports: list[SourceReport], removed: Sequence[Path] = ()
) -> dict[str, Any]:
    """`{"quality": ...}` when the traces carried difficulty bands or language marks, else
    nothing (so mixes of other data keep their statistics as they were).

    difficulty: per source, rows of the mix (all splits, upsampled copies included) per band;
    language_mismatch: per source, rows marked language_mismatch and whether they were kept.
    """
    from kodeio.synth.difficulty import BANDS

    bands: dict[str, dict[str, int]] = {}
    for rows in splits.values():
        for s in rows:
            if s.band is not None:
                counts = bands.setdefault(s.source, dict.fromkeys(BANDS, 0))
                counts[s.band] = counts.get(s.band, 0) + 1
    mismatch = {
        r.name: {"rows": r.language_mismatch, "kept": r.keep_language_mismatch}
        for r in reports
        if r.language_mismatch
    }
    quality: dict[str, Any] = {}
    yields = {r.name: r.yield_by_turn for r in reports if r.yield_by_turn is not None}
    if yields:
        quality["yield_by_turn"] = yields
    if bands:
        quality["difficulty"] = {r.name: bands[r.name] for r in reports if r.name in bands}
    if mismatch:
        quality["language_mismatch"] = mismatch
    if removed:
        quality["removed"] = removed_counts(removed)
    return {"quality": quality} if quality else {}
