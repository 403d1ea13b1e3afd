"""Shard rows replayed into `build_mix`, so a merge of shards repeats one machine's run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kodeio.data.formatting import ThinkMissing
from kodeio.data.mix.config import Source
from kodeio.data.mix.minhash import decode_minhash
from kodeio.data.mix.sources import Sample, iter_source
from kodeio.errors import InputError

if TYPE_CHECKING:
    from kodeio.scale.merge import ShardLedger


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
