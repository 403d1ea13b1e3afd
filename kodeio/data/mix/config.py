"""The typed config of `kodeio data mix`: the sources and how to mix, filter and split them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from kodeio.config import StageConfig
from kodeio.data.formatting import ThinkMissing
from kodeio.data.hf import HfDatasetSpec
from kodeio.scale.shards import ShardOptions

SPLITS = ("train", "eval")


class _SourceBase(StageConfig):
    name: str = Field(
        ..., pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", description="source name (a column value)"
    )
    ratio: float | None = Field(None, gt=0, description="share of the mix (ratios are normalized)")
    count: int | None = Field(None, ge=1, description="absolute number of rows (train + eval)")
    max_upsample: float | None = Field(
        None,
        ge=1.0,
        description="cap on copies per row when upsampling (default: mix max_upsample)",
    )
    near_dedup: bool | None = Field(
        None,
        description="MinHash near-dup check (default: on, except for traces, whose "
        "prompts differ only in small inputs)",
    )
    license: str | None = Field(None, description="license, shown in the dataset card")
    limit: int | None = Field(None, ge=1, description="read at most this many rows")

    @model_validator(mode="after")
    def _ratio_or_count(self) -> _SourceBase:
        if (self.ratio is None) == (self.count is None):
            raise ValueError(f"source '{self.name}': give exactly one of ratio or count")
        return self


class TracesSource(_SourceBase):
    kind: Literal["traces"]
    path: Path
    traces_file: Path | None = Field(
        None,
        description="the `kodeio synth run` traces this export came from: the card then shows "
        "their verified yield per turn (`kodeio run` sets it for RUN/synth/sft.jsonl)",
    )
    keep_language_mismatch: bool = Field(
        False,
        description="keep rows marked language_mismatch (Korean reasoning that drifted into "
        "another language; `kodeio synth export --keep-language-mismatch`)",
    )


class MessagesSource(_SourceBase):
    kind: Literal["messages"]
    path: Path


class PairsSource(_SourceBase):
    kind: Literal["pairs"]
    path: Path
    direction: Literal["ko-en", "en-ko", "both"] = Field(
        "both", description="both: each row gets one direction, picked by the seeded RNG"
    )


class HfSource(_SourceBase):
    kind: Literal["hf"]
    dataset: HfDatasetSpec


Source = Annotated[
    TracesSource | MessagesSource | PairsSource | HfSource, Field(discriminator="kind")
]


class DedupConfig(StageConfig):
    exact: bool = True
    near: bool = True
    threshold: float = Field(0.85, gt=0, le=1, description="MinHash Jaccard for near duplicates")
    num_perm: int = Field(128, ge=16, le=1024)
    ngram: int = Field(5, ge=1, le=32, description="character shingle size")


class LengthConfig(StageConfig):
    tokenizer: str | None = Field(
        None, description="local tokenizer dir/file (tokenizer.json) or a cached hub id"
    )
    max_tokens: int | None = Field(None, ge=1, description="drop longer samples")
    min_tokens: int = Field(1, ge=0, description="drop shorter samples")
    message_overhead: int = Field(4, ge=0, description="chat-markup tokens counted per message")

    @model_validator(mode="after")
    def _needs_tokenizer(self) -> LengthConfig:
        if self.max_tokens is not None and not self.tokenizer:
            raise ValueError("max_tokens needs a tokenizer")
        return self


class SplitConfig(StageConfig):
    eval_fraction: float = Field(0.02, ge=0, lt=0.5, description="eval share of each source")
    max_eval_share: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="never put more than this share of a source's unique rows in eval",
    )


class CardConfig(StageConfig):
    title: str = "kodeio training mix"
    description: str | None = None
    license: str | None = Field(None, description="license of the mix as a whole (card metadata)")
    language: list[str] = Field(default_factory=lambda: ["ko", "en"])
    removed: list[Path] = Field(
        default_factory=list,
        description="CLEAN.removed.jsonl files of `kodeio io clean` (rows {seed_id, reason, "
        "method, matched: {source, id}, score}): the card counts the seeds removed per "
        "reason, benchmark and method",
    )


class MixConfig(ShardOptions):
    """`kodeio data mix`: sources -> DatasetDict(train, eval) in `output` with a card."""

    not_results: ClassVar[frozenset[str]] = frozenset({"push_to_hub", "private"})

    sources: list[Source] = Field(..., min_length=1)
    output: Path = Field(..., description="directory for the dataset (replaced atomically)")
    seed: int = 0
    total: int | None = Field(
        None,
        ge=1,
        description="rows of the whole mix; default: as many as the ratio sources "
        "allow without upsampling",
    )
    max_upsample: float = Field(3.0, ge=1.0, description="default cap on copies per row")
    think_missing: ThinkMissing = Field(
        "empty", description="assistant turns without reasoning get an empty <think> block, or none"
    )
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    length: LengthConfig = Field(default_factory=LengthConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    card: CardConfig = Field(default_factory=CardConfig)
    formats: list[Literal["parquet", "jsonl"]] = Field(
        default_factory=list, description="extra copies of each split beside the Arrow dataset"
    )
    push_to_hub: str | None = Field(None, description="dataset repo id to upload to")
    private: bool = Field(True, description="create the hub repo as private")

    @model_validator(mode="after")
    def _unique_names(self) -> MixConfig:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"sources: duplicate name(s) {', '.join(dupes)}")
        return self
