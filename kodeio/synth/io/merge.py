"""`kodeio merge` of `io run --shard K/N` outputs: the io stage's reader and merger.

An io shard keeps its ledger beside its output (`OUT.seeds`): a header with the stage, the
shard and a fingerprint of the results-changing config, one row per seed with its outcome
before cross-seed dedup was settled, and an end row with the seed count. Merging replays
every seed of every shard in seed order and settles dedup the way a single run does, so the
merged file holds the same bytes. The checks shared by every stage, and the registry that
points `kodeio merge` here, are in `kodeio.scale.merge` and `kodeio.cli.merge`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kodeio.errors import InputError
from kodeio.files import atomic_path, dumps, iter_jsonl
from kodeio.scale.merge import MergeResult, ShardLedger
from kodeio.scale.shards import parse_shard
from kodeio.synth.io.config import default_rejects_path, seed_ledger_path
from kodeio.synth.io.stage import CONFIG_KEY, END_KEY, settle


def read_ledger(output: Path) -> ShardLedger:
    """One io shard's ledger, checked: from a sharded run, complete."""
    ledger = seed_ledger_path(output)
    if not ledger.is_file():
        raise InputError(
            f"{ledger}: missing; merge needs the ledger a --shard K/N run keeps beside its output"
        )
    rows = iter_jsonl(ledger, required=("key",))
    _, header = next(rows, (0, {}))
    if header.get("key") != CONFIG_KEY or not header.get("shard"):
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
        if row["key"] == END_KEY:
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


def merge_shards(
    shards: Sequence[ShardLedger], output: Path, rejects: Path | None = None
) -> MergeResult:
    """Every seed of every shard, in seed order, settled as one run settles them."""
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
