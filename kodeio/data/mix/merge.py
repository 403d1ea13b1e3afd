"""`kodeio merge` of `data mix` shards: the dataset directory a single run writes, byte for byte.

The sources are read once more; dedup is replayed in source and row order with the shards'
keys and MinHash values (checked against the rows read now), then the global steps of
`build_mix` (length filter, split, sampling, shuffle) run as in one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack, closing
from pathlib import Path
from typing import TYPE_CHECKING

from kodeio.data.mix.config import MixConfig
from kodeio.data.mix.plan import build_mix
from kodeio.data.mix.replay import ShardReplay
from kodeio.data.mix.upload import check_hub_token, publish
from kodeio.data.mix.write import write_mix
from kodeio.errors import InputError

if TYPE_CHECKING:
    from kodeio.scale.merge import MergeResult, ShardLedger


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
