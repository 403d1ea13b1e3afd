"""`kodeio data mix --shard K/N`: the costly per-row work of every N-th row of each source.

Per row of the shard: its dedup key, its MinHash values (base64 of little-endian uint64) and
its token count, one JSON object per line, in source and row order. Every shard reads and
formats all rows (cheap), so row ids stay those of one run; `kodeio merge` replays them
(`kodeio.data.mix.merge`).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from kodeio.data.mix.config import MixConfig
from kodeio.data.mix.minhash import encode_minhash
from kodeio.data.mix.plan import deduplicator, near_dedup_enabled, token_counter
from kodeio.data.mix.sources import Sample, iter_source
from kodeio.errors import ConfigError

SHARD_BATCH = 512  # rows whose tokens are counted in one call

# (source number, row index in the source, sample, near-dup check on)
ShardRow = tuple[int, int, Sample, bool]


def write_shard(config: MixConfig) -> Path:
    """`--shard K/N`: per row of this shard, its dedup key, MinHash values and token count."""
    from kodeio.files import atomic_path
    from kodeio.scale.shards import write_sidecar

    if config.output.is_dir():
        raise ConfigError(
            f"output: {config.output} is a directory; with --shard, -o names the shard's "
            "JSONL file (kodeio merge writes the dataset directory)"
        )
    k, n = config.shard_index
    counter = token_counter(config)
    dedup = deduplicator(config)
    read: list[int] = []  # rows per source, all of them (not only this shard's)
    rows = 0
    with atomic_path(config.output) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for number, source in enumerate(config.sources):
            near = near_dedup_enabled(config, source)
            batch: list[ShardRow] = []
            count = 0
            for index, sample in enumerate(iter_source(source, config.seed, config.think_missing)):
                count += 1
                if index % n == k:
                    batch.append((number, index, sample, near))
                    rows += 1
                    if len(batch) >= SHARD_BATCH:
                        _write_batch(fh, batch, counter, dedup)
                        batch = []
            _write_batch(fh, batch, counter, dedup)
            read.append(count)
        fh.flush()
        write_sidecar(config.output, "mix", config, str(config.shard), rows, read=read,
                      mix_config=config.model_dump(mode="json"))  # fmt: skip
    from kodeio.progress import console

    console.print(
        f"wrote shard {config.shard}: {rows:,} of {sum(read):,} rows to {config.output}; "
        "join the shards with kodeio merge",
        highlight=False,
    )
    return config.output


def _write_batch(fh: IO[str], batch: list[ShardRow], counter: Any, dedup: Any) -> None:
    from kodeio.files import dumps

    lengths = counter.count([row[2].messages for row in batch]) if counter else None
    for j, (number, index, sample, near) in enumerate(batch):
        key, values = dedup.signature(sample.dedup_text, near=near)
        record = {
            "source": number,
            "index": index,
            "id": sample.id,
            "key": key.hex(),
            "minhash": None if values is None else encode_minhash(values),
            "tokens": None if lengths is None else lengths[j],
        }
        fh.write(dumps(record) + "\n")
