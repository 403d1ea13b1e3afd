"""`kodeio merge` of `data mix` shards: the dataset directory a single run writes, byte for byte.

The sources are read once more; dedup is replayed in source and row order with the shards'
keys and MinHash values (checked against the rows read now), then the global steps of
`build_mix` (length filter, split, sampling, shuffle) run as in one run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kodeio.data.formatting import ThinkMissing
from kodeio.data.mix.config import MixConfig, Source
from kodeio.data.mix.plan import build_mix
from kodeio.data.mix.shards import decode_minhash
from kodeio.data.mix.sources import Sample, iter_source
from kodeio.data.mix.upload import check_hub_token, publish
from kodeio.data.mix.write import write_mix
from kodeio.errors import InputError

if TYPE_CHECKING:
    from kodeio.scale.merge import MergeResult, ShardLedger


@dataclass
class ShardReplay:
    """The shards' rows, handed to `build_mix` source by source in row order."""

    shards: list[ShardLedger]  # by K
    readers: list[Iterator[str]]  # their rows, streamed
    read: list[int]  # rows per source, in all shards
    seed: int
    think_missing: ThinkMissing

    def rows(
        self, number: int, source: Source
    ) -> Iterator[tuple[Sample, tuple[bytes, Any] | None]]:
        from kodeio.data.dedup import exact_key

        samples = iter_source(source, self.seed, self.think_missing)
        n = len(self.shards)
        for index in range(self.read[number]):
            shard = self.shards[index % n]
            sample = next(samples, None)
            line = next(self.readers[index % n], None)
            record = json.loads(line) if line is not None else {}
            if (
                sample is None
                or (record.get("source"), record.get("index")) != (number, index)
                or record.get("id") != sample.id
                or record.get("key") != exact_key(sample.dedup_text).hex()
            ):
                raise InputError(
                    f"{shard.output}: row {index + 1} of source '{source.name}' is not the one "
                    "this shard read; did the sources change since the shards ran?"
                )
            sample.num_tokens = record["tokens"]
            values = None if record["minhash"] is None else decode_minhash(record["minhash"])
            yield sample, (bytes.fromhex(record["key"]), values)
        if next(samples, None) is not None:
            raise InputError(
                f"source '{source.name}': more rows than the shards read "
                f"({self.read[number]}); did the sources change since the shards ran?"
            )


def merge_shards(shards: Sequence[ShardLedger], output: Path) -> MergeResult:
    """Shards of `data mix`: replay dedup with their signatures, then the global steps, into
    the dataset directory one run writes."""
    from kodeio.scale.merge import MergeResult

    first = shards[0]
    try:
        read = [int(r) for r in first.meta["read"]]
        data = {**first.meta["mix_config"], "output": str(output), "shard": None}
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{first.ledger}: not a mix shard sidecar ({exc})") from None
    for s in shards:
        if s.meta.get("read") != read:
            raise InputError(
                f"{s.output}: read {s.meta.get('read')} rows per source, {first.output} "
                f"{read}; were they run on the same sources?"
            )
    config = MixConfig.model_validate(data)
    check_hub_token(config)
    by_index = sorted(shards, key=lambda s: s.index)
    with ExitStack() as stack:
        readers = [stack.enter_context(closing(s.lines())) for s in by_index]
        replay = ShardReplay(by_index, readers, read, config.seed, config.think_missing)
        result = build_mix(config, replay)
        for shard, reader in zip(by_index, readers, strict=True):
            if next(reader, None) is not None:
                raise InputError(f"{shard.output}: more rows than its sources have")
    out = write_mix(result, config)
    publish(out, config)
    rows = sum(len(v) for v in result.splits.values())
    return MergeResult(out, None, len(shards), sum(read), rows, 0)
