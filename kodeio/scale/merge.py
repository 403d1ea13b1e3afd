"""`kodeio merge`: shard outputs back into exactly the file one machine would have written.

This module knows no stage. A finished shard leaves either a sidecar (`OUT.shard.json`, see
`kodeio.scale.shards`) or, for a stage that replays per-input outcomes (`io run`), a ledger
beside its output that the stage's own reader turns into a `ShardLedger`. Every stage names
its merge in the registry the caller passes (`kodeio.cli.merge.MERGERS`): row-wise stages
interleave (`merge_rows` here), the data stages rebuild their side files from the sidecars'
counts, `data mix` replays its global steps, and `io` replays its seeds' outcomes. Every
check runs before anything is written, and the outputs appear only by rename, so a failed
merge leaves nothing behind.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.files import atomic_path, partial_path
from kodeio.scale.shards import parse_shard, sidecar_path


@dataclass(frozen=True)
class Merger:
    """How one stage's shards are joined. `function` is "module:function", imported on use
    (so merging io shards never imports `datasets`); it takes (shards, output), and also
    the rejects path where `rejects` is true."""

    function: str
    rejects: bool = False


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


def read_shard(output: Path, read_ledger: Callable[[Path], ShardLedger]) -> ShardLedger:
    """One finished shard: its sidecar, else what `read_ledger` makes of the ledger its
    stage keeps beside the output."""
    if partial_path(output).exists() or not output.is_file():
        raise InputError(f"{output}: this shard has not finished; rerun it before merging")
    if sidecar_path(output).is_file():
        return _read_sidecar(output)
    return read_ledger(output)


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


def load(dotted: str) -> Callable[..., Any]:
    """The function named "module:function"."""
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


def merge_shards(
    outputs: Sequence[Path],
    output: Path,
    rejects: Path | None,
    mergers: Mapping[str, Merger],
    read_ledger: Callable[[Path], ShardLedger],
) -> MergeResult:
    """Check the shards of one run and join them with their stage's merger."""
    if not outputs:
        raise InputError("merge: give the shard outputs to merge")
    shards = [read_shard(Path(p), read_ledger) for p in outputs]
    check_shards(shards)
    if output in [s.output for s in shards]:
        raise InputError(f"{output}: merge into a new file, not one of the shards")
    stage = shards[0].stage
    merger = mergers.get(stage)
    if merger is None:
        raise InputError(f"{shards[0].ledger}: cannot merge a {stage!r} stage")
    if not merger.rejects:
        if rejects is not None:
            with_rejects = ", ".join(name for name, m in mergers.items() if m.rejects)
            raise InputError(
                f"--rejects {rejects}: only {with_rejects} shards have rejects; {stage} has none"
            )
        return load(merger.function)(shards, output)
    return load(merger.function)(shards, output, rejects)


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
