"""`kodeio data mix`: the stage's one entry point."""

from __future__ import annotations

from pathlib import Path

from kodeio.data.mix.config import MixConfig
from kodeio.data.mix.plan import build_mix
from kodeio.data.mix.shards import write_shard
from kodeio.data.mix.upload import check_hub_token, publish
from kodeio.data.mix.write import write_mix


def run_stage(config: MixConfig) -> Path:
    """Mix the sources into the dataset directory `config.output` (with `--shard K/N`: write
    this shard's per-row signatures instead, for `kodeio merge`)."""
    if config.shard:
        return write_shard(config)
    check_hub_token(config)
    result = build_mix(config)
    out = write_mix(result, config)
    publish(out, config)
    return out
