"""`kodeio merge`: shard outputs back into exactly the file one machine would have written.

A shard run (`--shard K/N`) keeps its ledger beside its output (`OUT.seeds`): a header with
the stage, the shard and a fingerprint of the results-changing config, one row per seed with
its outcome before cross-seed dedup was settled, and an end row with the seed count. Merging
replays every seed of every shard in seed order and settles dedup the way a single run does,
so the merged file holds the same bytes. Everything is checked before anything is written,
and the outputs appear only by rename, so a failed merge leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.files import atomic_path, dumps, iter_jsonl, partial_path
from kodeio.scale.shards import parse_shard, sidecar_path
from kodeio.synth.io.config import default_rejects_path, seed_ledger_path

# Stages whose output rows each depend on one input row: merged by interleaving.
ROW_WISE = {"verify"}


@dataclass
class ShardLedger:
    output: Path
    ledger: Path
    stage: str
    fingerprint: str
    index: int  # 0-based K
    count: int  # N
    seeds: int
    outcomes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class MergeResult:
    output: Path
    rejects: Path | None
    shards: int
    seeds: int
    rows: int
    rejected: int


def read_shard(output: Path) -> ShardLedger:
    """One shard's ledger or sidecar, checked: finished, from a sharded run, complete."""
    ledger = seed_ledger_path(output)
    if partial_path(output).exists() or not output.is_file():
        raise InputError(f"{output}: this shard has not finished; rerun it before merging")
    if sidecar_path(output).is_file():
        return _read_sidecar(output)
    if not ledger.is_file():
        raise InputError(
            f"{ledger}: missing; merge needs the ledger a --shard K/N run keeps beside its output"
        )
    rows = iter_jsonl(ledger, required=("key",))
    _, header = next(rows, (0, {}))
    if header.get("key") != "#config" or not header.get("shard"):
        raise InputError(f"{ledger}:1: expected the header of a --shard K/N run")
    try:
        index, count = parse_shard(str(header["shard"]))
    except ValueError as exc:
        raise InputError(f"{ledger}:1: {exc}") from None
    shard = ShardLedger(
        output=output,
        ledger=ledger,
        stage=str(header.get("stage")),
        fingerprint=str(header.get("merge_fingerprint")),
        index=index,
        count=count,
        seeds=-1,
    )
    for lineno, row in rows:
        if row["key"] == "#end":
            shard.seeds = int(row["seeds"])
        elif "outcome" in row:
            shard.outcomes.append(row["outcome"])
        else:
            raise InputError(f"{ledger}:{lineno}: a seed row without its outcome")
    if shard.seeds != len(shard.outcomes):
        raise InputError(
            f"{ledger}: {len(shard.outcomes)} seed outcomes for {shard.seeds} seeds read; "
            "rerun this shard"
        )
    return shard


def _read_sidecar(output: Path) -> ShardLedger:
    """A row-wise stage's shard: its sidecar, and its rows (kept as text, byte for byte)."""
    path = sidecar_path(output)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        k, n = parse_shard(str(data["shard"]))
        shard = ShardLedger(output, path, str(data["stage"]), str(data["merge_fingerprint"]),
                            k, n, int(data["rows"]))  # fmt: skip
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a shard sidecar ({exc})") from None
    lines = [line for line in output.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(lines) != shard.seeds:
        raise InputError(f"{output}: {len(lines)} rows, its sidecar says {shard.seeds}")
    shard.outcomes = [{"line": line} for line in lines]
    return shard


def check_shards(shards: Sequence[ShardLedger]) -> None:
    """All shards of one run, each exactly once."""
    first = shards[0]
    for s in shards[1:]:
        if s.stage != first.stage:
            raise InputError(
                f"{s.output}: a {s.stage} shard; {first.output} is a {first.stage} one"
            )
        if s.fingerprint != first.fingerprint:
            raise InputError(
                f"{s.output}: made with another config than {first.output} "
                "(fingerprints differ); shards of one run must share every results-changing key"
            )
        if s.count != first.count:
            raise InputError(
                f"{s.output}: shard {s.index + 1}/{s.count}, but {first.output} is one of "
                f"{first.count}"
            )
    seen: dict[int, Path] = {}
    for s in shards:
        if s.index in seen:
            raise InputError(
                f"{s.output}: shard {s.index + 1}/{s.count} given twice (also {seen[s.index]})"
            )
        seen[s.index] = s.output
    missing = [str(k + 1) for k in range(first.count) if k not in seen]
    if missing:
        raise InputError(f"shard(s) {', '.join(missing)} of {first.count} missing from the merge")


def _io_settle() -> Callable[[dict[str, Any], dict[str, str]], Any]:
    from kodeio.synth.io.stage import settle

    return settle


def merge_shards(outputs: Sequence[Path], output: Path, rejects: Path | None = None) -> MergeResult:
    if not outputs:
        raise InputError("merge: give the shard outputs to merge")
    shards = [read_shard(Path(p)) for p in outputs]
    check_shards(shards)
    if output in [s.output for s in shards]:
        raise InputError(f"{output}: merge into a new file, not one of the shards")
    if shards[0].stage in ROW_WISE:
        return _merge_rows(shards, output)
    if shards[0].stage != "io":
        raise InputError(f"{shards[0].ledger}: cannot merge a {shards[0].stage!r} stage")
    outcomes = sorted((o for s in shards for o in s.outcomes), key=lambda o: o["ordinal"])
    for expected, outcome in enumerate(outcomes):
        if outcome["ordinal"] != expected:
            raise InputError(
                f"seed {expected} is missing or doubled across the shards; "
                "were they run over the same seed files?"
            )
    rejects = rejects or default_rejects_path(output)
    if rejects == output:
        raise InputError(f"{output}: the rejects must go to another file")
    settle = _io_settle()
    dedup: dict[str, str] = {}
    row_ids: set[str] = set()
    reject_ids: set[str] = set()
    n_rows = n_rejects = 0
    with atomic_path(rejects) as rej_tmp, atomic_path(output) as out_tmp:
        with (
            out_tmp.open("w", encoding="utf-8") as out_fh,
            rej_tmp.open("w", encoding="utf-8") as rej_fh,
        ):
            for outcome in outcomes:
                rows, seed_rejects, _ = settle(outcome, dedup)
                # The same id twice is written once, as ResumableJsonl does in a single run.
                for row in seed_rejects:
                    if row["id"] not in reject_ids:
                        reject_ids.add(row["id"])
                        rej_fh.write(dumps(row) + "\n")
                        n_rejects += 1
                for row in rows:
                    if row["id"] not in row_ids:
                        row_ids.add(row["id"])
                        out_fh.write(dumps(row) + "\n")
                        n_rows += 1
    return MergeResult(output, rejects, len(shards), len(outcomes), n_rows, n_rejects)


def _merge_rows(shards: Sequence[ShardLedger], output: Path) -> MergeResult:
    """Interleave: row i of shard K was row K-1 + i*N of the single run."""
    n = shards[0].count
    by_index = sorted(shards, key=lambda s: s.index)
    total = sum(s.seeds for s in shards)
    # A single run of T rows gives shard K ceil((T - K + 1) / N) rows; anything else means
    # the shards did not read the same input.
    for s in by_index:
        if s.seeds != len(range(s.index, total, n)):
            raise InputError(
                f"{s.output}: {s.seeds} rows, but {total} rows over {n} shards give shard "
                f"{s.index + 1} {len(range(s.index, total, n))}; were they run on the same input?"
            )
    with atomic_path(output) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for i in range(total):
            fh.write(by_index[i % n].outcomes[i // n]["line"] + "\n")
    return MergeResult(output, None, len(shards), total, total, 0)
