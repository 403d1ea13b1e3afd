"""`kodeio merge`: shard outputs back into exactly the file one machine would have written.

A shard run (`--shard K/N`) keeps its ledger beside its output (`OUT.seeds`): a header with
the stage, the shard and a fingerprint of the results-changing config, one row per seed with
its outcome before cross-seed dedup was settled, and an end row with the seed count. Merging
replays every seed of every shard in seed order and settles dedup the way a single run does,
so the merged file holds the same bytes. Everything is checked before anything is written,
and the outputs appear only by rename, so a failed merge leaves nothing behind.

Stages without a ledger leave a sidecar (`OUT.shard.json`, see `kodeio.scale.shards`);
each names its merge in `MERGERS`: row-wise stages interleave, the data stages rebuild their
side files from the sidecars' counts, and `data mix` replays its global steps.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Generator, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.files import atomic_path, dumps, iter_jsonl, partial_path
from kodeio.scale.shards import parse_shard, sidecar_path
from kodeio.synth.io.config import default_rejects_path, seed_ledger_path

# stage -> "module:function" merging its shards; each takes (shards, output) and returns a
# MergeResult. Imported on use, so `kodeio merge` of io shards never imports `datasets`.
MERGERS = {
    "verify": "kodeio.scale.merge:merge_rows",
    "synth": "kodeio.scale.merge:merge_rows",
    "aihub": "kodeio.data.pairs:merge_shards",
    "hf": "kodeio.data.hf:merge_shards",
    "mix": "kodeio.data.mix:merge_shards",
}


@dataclass
class ShardLedger:
    output: Path
    ledger: Path
    stage: str
    fingerprint: str
    index: int  # 0-based K
    count: int  # N
    seeds: int  # seeds (io) or rows (sidecar stages)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # the sidecar, for the stage's merge

    def lines(self) -> Generator[str, None, None]:
        """The shard output's rows as text, byte for byte, streamed."""
        with self.output.open("r", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield line.rstrip("\n")


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
    """A sidecar stage's shard: its sidecar, checked against the rows its output holds."""
    path = sidecar_path(output)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        k, n = parse_shard(str(data["shard"]))
        shard = ShardLedger(output, path, str(data["stage"]), str(data["merge_fingerprint"]),
                            k, n, int(data["rows"]), meta=data)  # fmt: skip
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: not a shard sidecar ({exc})") from None
    try:
        rows = sum(1 for _ in shard.lines())
    except UnicodeDecodeError:
        raise InputError(f"{output}: not UTF-8 text; expected a shard's JSONL") from None
    if rows != shard.seeds:
        raise InputError(f"{output}: {rows} rows, its sidecar says {shard.seeds}")
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
    stage = shards[0].stage
    if stage in MERGERS:
        if rejects is not None:
            raise InputError(f"--rejects {rejects}: only io shards have rejects; {stage} has none")
        module, _, name = MERGERS[stage].partition(":")
        merge: Callable[[Sequence[ShardLedger], Path], MergeResult]
        merge = getattr(importlib.import_module(module), name)
        return merge(shards, output)
    if stage != "io":
        raise InputError(f"{shards[0].ledger}: cannot merge a {stage!r} stage")
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


def check_units(shards: Sequence[ShardLedger], units: int) -> list[ShardLedger]:
    """Shard K must hold the units (rows, pairs, files) K-1, K-1+N, ... of `units` in all: its
    sidecar's `units` (else its row count) says how many it has. Returns them by K."""
    n = shards[0].count
    by_index = sorted(shards, key=lambda s: s.index)
    for s in by_index:
        got = s.meta.get("units", s.seeds)
        want = len(range(s.index, units, n))
        if got != want:
            raise InputError(
                f"{s.output}: {got} inputs, but {units} inputs over {n} shards give shard "
                f"{s.index + 1} {want}; were they run on the same input?"
            )
    return by_index


def interleave(shards: Sequence[ShardLedger], output: Path, sizes: Sequence[int]) -> int:
    """Write `output` atomically: unit u of the single run is the next `sizes[u]` rows of
    shard u mod N (1 row per unit for verify, a pair's traces for synth, a file's pairs for
    aihub). Streamed; every shard row must be used exactly once. Returns the rows written."""
    by_index = sorted(shards, key=lambda s: s.index)
    n = len(by_index)
    with ExitStack() as stack:
        readers = [stack.enter_context(closing(s.lines())) for s in by_index]
        with atomic_path(output) as tmp, tmp.open("w", encoding="utf-8") as fh:
            for unit, size in enumerate(sizes):
                for _ in range(size):
                    line = next(readers[unit % n], None)
                    if line is None:
                        raise InputError(f"{by_index[unit % n].output}: fewer rows than its counts")
                    fh.write(line + "\n")
            for shard, reader in zip(by_index, readers, strict=True):
                if next(reader, None) is not None:
                    raise InputError(f"{shard.output}: more rows than its counts")
    return sum(sizes)


def merge_rows(shards: Sequence[ShardLedger], output: Path) -> MergeResult:
    """Row-wise stages: group i of shard K was group K-1 + i*N of the single run (a group is
    one row for verify, the traces of one pair for synth)."""
    group = int(shards[0].meta.get("group", 1))
    for s in shards:
        if group < 1 or s.seeds % group:
            raise InputError(f"{s.output}: {s.seeds} rows, not whole groups of {group}")
        s.meta["units"] = s.seeds // group
    units = sum(s.meta["units"] for s in shards)
    check_units(shards, units)
    rows = interleave(shards, output, [group] * units)
    return MergeResult(output, None, len(shards), units, rows, 0)
