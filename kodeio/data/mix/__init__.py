"""The training mix (`kodeio data mix --config mix.yaml -o DIR`).

Sources (in config order, which is also the dedup priority order):

- `traces`: verified reasoning traces, JSONL rows with `messages` whose assistant turn is
  `<think>\\n…\\n</think>\\n\\nanswer` (what `kodeio synth export` writes);
- `pairs`: translation pairs from `kodeio data aihub` ({ko, en, source}), formatted ko→en,
  en→ko or both (direction picked per row by a seeded RNG);
- `messages`: any JSONL of conversations (e.g. written by `kodeio data hf`);
- `hf`: a Hugging Face dataset read in place (instruction, mcqa or qa layout).

Each source asks for a `ratio` of the mix or an absolute `count` of rows. The pipeline:
format → exact/near dedup → token-length filter → per-source eval split (stratified,
drawn from unique rows before upsampling, so eval never has a copy in train) → down- or
upsampling of train to its target (copies capped at `max_upsample` per row) → seeded
shuffle → `DatasetDict(train, eval)` saved to DIR with a README.md card.
Every random choice derives from `seed`, so the same config gives the same bytes.

`--shard K/N` does the costly per-row work of every N-th row of each source, from the K-th:
the dedup key, the MinHash signature and the token count, written to a JSONL file (`-o`
names that file). Every shard reads and formats all rows (cheap), so row ids stay those of
one run. `kodeio merge` reads the sources once more, replays dedup in source and row order
with the shards' signatures, and runs the global steps (filter, split, sampling, shuffle):
the dataset directory it writes is the single run's, byte for byte.

Modules, in pipeline order: `config` (the typed config), `sources` (rows -> samples),
`plan` (`build_mix`: dedup, filter, split, sample, shuffle), `stats`, `write` (the dataset
directory), `upload` (`--push-to-hub`), `stage` (`run_stage`), `shards` (`--shard K/N`) and
`merge` (`kodeio merge`).
"""

from kodeio.data.mix.config import (
    SPLITS,
    CardConfig,
    DedupConfig,
    HfSource,
    LengthConfig,
    MessagesSource,
    MixConfig,
    PairsSource,
    Source,
    SplitConfig,
    TracesSource,
)
from kodeio.data.mix.merge import merge_shards
from kodeio.data.mix.plan import MixResult, build_mix, plan_targets, take
from kodeio.data.mix.replay import ShardReplay
from kodeio.data.mix.shards import SHARD_BATCH, write_shard
from kodeio.data.mix.sources import (
    ROLES,
    Sample,
    conversation_dedup_text,
    iter_source,
    validate_messages,
)
from kodeio.data.mix.stage import run_stage
from kodeio.data.mix.stats import SourceReport, content_fingerprint
from kodeio.data.mix.write import to_dataset_dict, write_mix

__all__ = [
    "ROLES",
    "SHARD_BATCH",
    "SPLITS",
    "CardConfig",
    "DedupConfig",
    "HfSource",
    "LengthConfig",
    "MessagesSource",
    "MixConfig",
    "MixResult",
    "PairsSource",
    "Sample",
    "ShardReplay",
    "Source",
    "SourceReport",
    "SplitConfig",
    "TracesSource",
    "build_mix",
    "content_fingerprint",
    "conversation_dedup_text",
    "iter_source",
    "merge_shards",
    "plan_targets",
    "run_stage",
    "take",
    "to_dataset_dict",
    "validate_messages",
    "write_mix",
    "write_shard",
]
