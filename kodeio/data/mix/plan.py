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
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from kodeio.config import StageConfig
from kodeio.data.formatting import (
    Message,
    ThinkMissing,
    assistant_turn,
    seeded_rng,
    translation_messages,
)
from kodeio.data.hf import HfDatasetSpec, iter_hf_conversations
from kodeio.data.text import has_think_block, split_think
from kodeio.errors import ConfigError, InputError
from kodeio.scale.shards import ShardOptions

if TYPE_CHECKING:
    from kodeio.scale.merge import MergeResult, ShardLedger

SPLITS = ("train", "eval")
ROLES = ("system", "user", "assistant")


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


@dataclass
class Sample:
    id: str
    source: str
    messages: list[Message]
    dedup_text: str
    num_tokens: int | None = None


@dataclass
class SourceReport:
    name: str
    kind: str
    license: str | None
    read: int = 0
    duplicates_exact: int = 0
    duplicates_near: int = 0
    length_filtered: int = 0
    unique: int = 0
    target: int = 0
    upsample_factor: float = 1.0
    capped: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- reading the sources


def validate_messages(value: Any, where: str) -> list[Message]:
    """A clean [{role, content}] list; anything else is an InputError naming `where`."""
    if not isinstance(value, list) or not value:
        raise InputError(f"{where}: 'messages' must be a non-empty list of {{role, content}}")
    out: list[Message] = []
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise InputError(
                f"{where}: messages[{i}] is {type(message).__name__}, expected an object"
            )
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise InputError(
                f"{where}: messages[{i}].role is {role!r}; expected one of {', '.join(ROLES)}"
            )
        if not isinstance(content, str):
            raise InputError(f"{where}: messages[{i}].content must be a string")
        out.append({"role": role, "content": content})
    if out[-1]["role"] != "assistant" or not any(m["role"] == "user" for m in out):
        raise InputError(f"{where}: expected user turn(s) and a final assistant turn")
    return out


def conversation_dedup_text(messages: list[Message]) -> str:
    """What makes two conversations 'the same': the user turns and the final answer.

    The reasoning is left out on purpose: two traces with the same question and answer are
    duplicates even when their chains of thought differ in wording.
    """
    users = [m["content"] for m in messages if m["role"] == "user"]
    _, answer = split_think(messages[-1]["content"])
    return "\n".join([*users, answer])


def _with_think(messages: list[Message], think_missing: ThinkMissing) -> list[Message]:
    if think_missing == "none":
        return messages
    return [
        {"role": "assistant", "content": assistant_turn(m["content"], None, "empty")}
        if m["role"] == "assistant" and not has_think_block(m["content"])
        else m
        for m in messages
    ]


def _row_id(source: str, obj: dict[str, Any], lineno: int, seen: set[str]) -> str:
    raw = obj.get("id")
    sid = f"{source}:{raw}" if isinstance(raw, str | int) and str(raw) else f"{source}:L{lineno}"
    if sid in seen:
        sid = f"{source}:L{lineno}"
    seen.add(sid)
    return sid


def iter_source(source: Source, seed: int, think_missing: ThinkMissing) -> Iterator[Sample]:
    from kodeio.files import iter_jsonl

    seen: set[str] = set()
    n = 0
    if isinstance(source, TracesSource | MessagesSource):
        for lineno, obj in iter_jsonl(source.path, required=("messages",)):
            where = f"{source.path}:{lineno}"
            messages = validate_messages(obj["messages"], where)
            if isinstance(source, TracesSource):
                if not has_think_block(messages[-1]["content"]):
                    raise InputError(
                        f"{where}: the assistant turn has no <think>…</think> block; expected a "
                        "verified trace as written by `kodeio synth export` (use kind: messages "
                        "for plain conversations)"
                    )
            else:
                messages = _with_think(messages, think_missing)
            yield Sample(
                _row_id(source.name, obj, lineno, seen),
                source.name,
                messages,
                conversation_dedup_text(messages),
            )
            n += 1
            if source.limit and n >= source.limit:
                return
    elif isinstance(source, PairsSource):
        for lineno, obj in iter_jsonl(source.path, required=("ko", "en")):
            ko, en = obj["ko"], obj["en"]
            if (
                not isinstance(ko, str)
                or not isinstance(en, str)
                or not ko.strip()
                or not en.strip()
            ):
                raise InputError(f"{source.path}:{lineno}: 'ko' and 'en' must be non-empty strings")
            sid = _row_id(source.name, {}, lineno, seen)
            direction = source.direction
            if direction == "both":
                direction = seeded_rng(seed, f"direction\x1f{sid}").choice(("ko-en", "en-ko"))
            messages = translation_messages(
                ko, en, direction, seed=seed, key=sid, think_missing=think_missing
            )
            yield Sample(sid, source.name, messages, f"{ko}\n{en}")
            n += 1
            if source.limit and n >= source.limit:
                return
    else:
        spec = source.dataset
        if source.limit and (spec.limit is None or spec.limit > source.limit):
            spec = spec.model_copy(update={"limit": source.limit})
        for row in iter_hf_conversations(spec, think_missing):
            index = row["id"].rsplit(":", 1)[1]
            messages = row["messages"]
            yield Sample(
                f"{source.name}:{index}", source.name, messages, conversation_dedup_text(messages)
            )


# ---------------------------------------------------------------- planning the mix


def plan_targets(
    config: MixConfig, available: dict[str, int]
) -> tuple[dict[str, int], dict[str, bool]]:
    """Rows (train + eval) per source from ratios/counts, and whether the upsampling cap bit."""
    targets: dict[str, int] = {}
    capped: dict[str, bool] = {}

    def cap(source: Source, wanted: int) -> int:
        limit = math.floor(available[source.name] * (source.max_upsample or config.max_upsample))
        capped[source.name] = wanted > limit
        return min(wanted, limit)

    for s in config.sources:
        if s.count is not None:
            targets[s.name] = cap(s, s.count)
    ratio_sources = [s for s in config.sources if s.ratio is not None]
    if ratio_sources:
        share_sum = sum(s.ratio or 0 for s in ratio_sources)
        if config.total is not None:
            remaining = config.total - sum(targets.values())
            if remaining < 0:
                raise ConfigError(
                    f"total: {config.total} is less than the count sources' {sum(targets.values())} rows"
                )
        else:
            # The largest mix in these proportions that needs no upsampling.
            remaining = min(available[s.name] * share_sum / (s.ratio or 1) for s in ratio_sources)
        for s in ratio_sources:
            targets[s.name] = cap(s, round(remaining * (s.ratio or 0) / share_sum))
    return targets, capped


def take(pool: list[Sample], n: int, rng_key: str, seed: int) -> list[Sample]:
    """n rows from pool: a seeded sample, or whole copies plus a seeded remainder (upsampling).

    Copy k>0 of a row gets the id suffix `#k`, so ids stay unique.
    """
    if n <= 0 or not pool:
        return []
    rng = seeded_rng(seed, rng_key)
    if n <= len(pool):
        return rng.sample(pool, n)
    copies, remainder = divmod(n, len(pool))
    out: list[Sample] = []
    for k in range(copies):
        out.extend(
            s if k == 0 else Sample(f"{s.id}#{k}", s.source, s.messages, s.dedup_text, s.num_tokens)
            for s in pool
        )
    out.extend(
        Sample(f"{s.id}#{copies}", s.source, s.messages, s.dedup_text, s.num_tokens)
        for s in rng.sample(pool, remainder)
    )
    return out


# ---------------------------------------------------------------- the stage


@dataclass
class MixResult:
    splits: dict[str, list[Sample]]
    reports: list[SourceReport]
    stats: dict[str, Any]


def _near_enabled(config: MixConfig, source: Source) -> bool:
    if not config.dedup.near:
        return False
    if source.near_dedup is not None:
        return source.near_dedup
    return source.kind != "traces"


def _token_counter(config: MixConfig) -> Any:
    if not config.length.tokenizer:
        return None
    from kodeio.data.tokens import TokenCounter

    return TokenCounter(config.length.tokenizer, config.length.message_overhead)


def _deduplicator(config: MixConfig) -> Any:
    from kodeio.data.dedup import Deduplicator

    return Deduplicator(
        exact=config.dedup.exact,
        near=config.dedup.near,
        threshold=config.dedup.threshold,
        num_perm=config.dedup.num_perm,
        ngram=config.dedup.ngram,
        seed=config.seed + 1,
    )


def build_mix(config: MixConfig, replay: ShardReplay | None = None) -> MixResult:
    """Everything but writing: read, dedup, filter, split, sample, shuffle. With `replay`
    (a merge), dedup keys, signatures and token counts come from the shards."""
    from kodeio.progress import progress_bar

    counter = _token_counter(config) if replay is None else None
    dedup = _deduplicator(config)
    unique: dict[str, list[Sample]] = {}
    reports: list[SourceReport] = []
    with progress_bar("mixing sources", total=len(config.sources)) as bar:
        for number, source in enumerate(config.sources):
            report = SourceReport(source.name, source.kind, source.license)
            reports.append(report)
            bar.update(0, info=source.name)
            near = _near_enabled(config, source)
            kept: list[Sample] = []
            # (sample, None), or in a merge (sample, (dedup key, MinHash values)) from a shard
            rows: Iterator[tuple[Sample, tuple[bytes, Any] | None]]
            if replay is None:
                samples = iter_source(source, config.seed, config.think_missing)
                rows = ((sample, None) for sample in samples)
            else:
                rows = replay.rows(number, source)
            for sample, signature in rows:
                report.read += 1
                if signature is None:
                    verdict = dedup.is_duplicate(sample.dedup_text, near=near)
                else:
                    verdict = dedup.replay(*signature)
                if verdict == "exact":
                    report.duplicates_exact += 1
                    continue
                if verdict == "near":
                    report.duplicates_near += 1
                    continue
                kept.append(sample)
            if counter is not None:
                lengths = counter.count([s.messages for s in kept])
                for s, n in zip(kept, lengths, strict=True):
                    s.num_tokens = n
            if config.length.tokenizer:
                low, high = config.length.min_tokens, config.length.max_tokens
                filtered = [
                    s
                    for s in kept
                    if s.num_tokens >= low and (high is None or s.num_tokens <= high)
                ]
                report.length_filtered = len(kept) - len(filtered)
                kept = filtered
            if not kept:
                where = getattr(source, "path", None) or source.dataset.label  # type: ignore[union-attr]
                raise InputError(
                    f"source '{source.name}' ({where}): no rows left after dedup and length filtering "
                    f"(read {report.read}, duplicates {report.duplicates_exact + report.duplicates_near}, "
                    f"length-filtered {report.length_filtered})"
                )
            report.unique = len(kept)
            unique[source.name] = kept
            bar.advance(0)

    targets, capped = plan_targets(config, {k: len(v) for k, v in unique.items()})
    splits: dict[str, list[Sample]] = {split: [] for split in SPLITS}
    for source, report in zip(config.sources, reports, strict=True):
        pool = seeded_rng(config.seed, f"split\x1f{source.name}").sample(
            unique[source.name], len(unique[source.name])
        )
        target = targets[source.name]
        n_eval = round(config.split.eval_fraction * target)
        if config.split.eval_fraction > 0 and target >= 2 and len(pool) >= 2:
            n_eval = max(1, n_eval)
        n_eval = min(n_eval, math.floor(len(pool) * config.split.max_eval_share))
        eval_rows, train_pool = pool[:n_eval], pool[n_eval:]
        cap = source.max_upsample or config.max_upsample
        n_train = min(target - n_eval, math.floor(len(train_pool) * cap))
        train_rows = take(train_pool, n_train, f"take\x1f{source.name}", config.seed)
        report.target = target
        report.capped = capped[source.name] or n_train < target - n_eval
        report.upsample_factor = n_train / len(train_pool) if train_pool else 0.0
        report.rows = {"train": len(train_rows), "eval": len(eval_rows)}
        splits["train"].extend(train_rows)
        splits["eval"].extend(eval_rows)
    for split in SPLITS:
        rng = seeded_rng(config.seed, f"shuffle\x1f{split}")
        rng.shuffle(splits[split])
    from kodeio.data.card import token_stats

    for report in reports:
        for split in SPLITS:
            report.tokens[split] = token_stats(
                [s.num_tokens for s in splits[split] if s.source == report.name]
            )
    return MixResult(splits, reports, _stats(config, splits, reports, dedup))


def content_fingerprint(splits: dict[str, list[Sample]]) -> str:
    digest = hashlib.sha256()
    for split in SPLITS:
        for s in splits[split]:
            digest.update(
                json.dumps(
                    [split, s.id, s.source, s.messages, s.num_tokens], ensure_ascii=False
                ).encode("utf-8")
            )
    return digest.hexdigest()[:16]


def _stats(
    config: MixConfig,
    splits: dict[str, list[Sample]],
    reports: list[SourceReport],
    dedup: Any,
) -> dict[str, Any]:
    from kodeio.data.card import token_stats

    length_filter = "none"
    if config.length.tokenizer:
        length_filter = f"{config.length.min_tokens} ≤ tokens" + (
            f" ≤ {config.length.max_tokens}" if config.length.max_tokens else ""
        )
    return {
        "seed": config.seed,
        "fingerprint": content_fingerprint(splits),
        "tokenizer": Path(config.length.tokenizer).name if config.length.tokenizer else None,
        "message_overhead": config.length.message_overhead,
        "length_filter": length_filter,
        "eval_fraction": config.split.eval_fraction,
        "dedup": {
            "exact": dedup.stats.exact,
            "near": dedup.stats.near,
            "threshold": config.dedup.threshold,
            "num_perm": config.dedup.num_perm,
            "ngram": config.dedup.ngram,
        },
        "splits": {
            split: {"count": len(rows), "tokens": token_stats([s.num_tokens for s in rows])}
            for split, rows in splits.items()
        },
        "sources": [
            {
                "name": r.name,
                "kind": r.kind,
                "license": r.license,
                "read": r.read,
                "duplicates_exact": r.duplicates_exact,
                "duplicates_near": r.duplicates_near,
                "length_filtered": r.length_filtered,
                "unique": r.unique,
                "target": r.target,
                "upsample_factor": round(r.upsample_factor, 4),
                "capped": r.capped,
                "rows": r.rows,
                "tokens": r.tokens,
            }
            for r in reports
        ],
    }


def to_dataset_dict(splits: dict[str, list[Sample]]) -> Any:
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "source": datasets.Value("string"),
            "messages": datasets.List(
                {"role": datasets.Value("string"), "content": datasets.Value("string")}
            ),
            "num_tokens": datasets.Value("int64"),
        }
    )
    return datasets.DatasetDict(
        {
            split: datasets.Dataset.from_dict(
                {
                    "id": [s.id for s in rows],
                    "source": [s.source for s in rows],
                    "messages": [s.messages for s in rows],
                    "num_tokens": [s.num_tokens for s in rows],
                },
                features=features,
                split=datasets.NamedSplit(split),
            )
            for split, rows in splits.items()
        }
    )


def write_mix(result: MixResult, config: MixConfig) -> Path:
    """Write DIR atomically: build in a temp dir beside it, then swap it in."""
    import datasets

    from kodeio.data.card import render_card
    from kodeio.files import write_jsonl

    out = config.output
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not (out / "dataset_dict.json").is_file() and any(out.iterdir()):
        raise InputError(f"{out}: exists and is not a kodeio mix directory; refusing to replace it")
    datasets.disable_progress_bars()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        dataset = to_dataset_dict(result.splits)
        dataset.save_to_disk(str(tmp))
        for fmt in config.formats:
            (tmp / fmt).mkdir()
            for split in SPLITS:
                if fmt == "parquet":
                    dataset[split].to_parquet(str(tmp / fmt / f"{split}.parquet"))
                else:
                    write_jsonl(
                        tmp / fmt / f"{split}.jsonl",
                        (
                            {
                                "id": s.id,
                                "source": s.source,
                                "messages": s.messages,
                                "num_tokens": s.num_tokens,
                            }
                            for s in result.splits[split]
                        ),
                    )
        card = config.card.model_dump()
        (tmp / "README.md").write_text(render_card(result.stats, card, SPLITS), encoding="utf-8")
        (tmp / "mix_stats.json").write_text(
            json.dumps(result.stats, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        (tmp / "mix_config.yaml").write_text(_config_yaml(config), encoding="utf-8")
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _config_yaml(config: MixConfig) -> str:
    import yaml

    data = config.model_dump(mode="json", exclude={"output", "push_to_hub", "shard"})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _check_hub_token(config: MixConfig) -> None:
    if config.push_to_hub:
        from huggingface_hub import get_token

        if not get_token():  # fail before hours of mixing, not after
            raise ConfigError(
                "--push-to-hub: no Hugging Face token; set HF_TOKEN or run `hf auth login`"
            )


def _publish(out: Path, config: MixConfig) -> None:
    if config.push_to_hub:
        from kodeio.data.hub import push_to_hub

        url = push_to_hub(out, config.push_to_hub, private=config.private)
        from kodeio.progress import console

        console.print(f"pushed to {url}", highlight=False)


def run_stage(config: MixConfig) -> Path:
    if config.shard:
        return write_shard(config)
    _check_hub_token(config)
    result = build_mix(config)
    out = write_mix(result, config)
    _publish(out, config)
    return out


# ---------------------------------------------------------------- shards and their merge

SHARD_BATCH = 512  # rows whose tokens are counted in one call


def write_shard(config: MixConfig) -> Path:
    """`--shard K/N`: per row of this shard, its dedup key, MinHash values and token count."""
    from kodeio.files import atomic_path, dumps
    from kodeio.scale.shards import write_sidecar

    if config.output.is_dir():
        raise ConfigError(
            f"output: {config.output} is a directory; with --shard, -o names the shard's "
            "JSONL file (kodeio merge writes the dataset directory)"
        )
    k, n = config.shard_index
    counter = _token_counter(config)
    dedup = _deduplicator(config)
    read: list[int] = []
    rows = 0
    with atomic_path(config.output) as tmp, tmp.open("w", encoding="utf-8") as fh:

        def flush(batch: list[tuple[int, int, Sample, bool]]) -> None:
            lengths = counter.count([b[2].messages for b in batch]) if counter else None
            for j, (number, index, sample, near) in enumerate(batch):
                key, values = dedup.signature(sample.dedup_text, near=near)
                record = {
                    "source": number,
                    "index": index,
                    "id": sample.id,
                    "key": key.hex(),
                    "minhash": None if values is None else _b64(values),
                    "tokens": None if lengths is None else lengths[j],
                }
                fh.write(dumps(record) + "\n")
            batch.clear()

        for number, source in enumerate(config.sources):
            near = _near_enabled(config, source)
            batch: list[tuple[int, int, Sample, bool]] = []
            count = 0
            for index, sample in enumerate(iter_source(source, config.seed, config.think_missing)):
                count += 1
                if index % n == k:
                    batch.append((number, index, sample, near))
                    rows += 1
                    if len(batch) >= SHARD_BATCH:
                        flush(batch)
            flush(batch)
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


def _b64(values: Any) -> str:
    import numpy as np

    return base64.b64encode(np.asarray(values, dtype="<u8").tobytes()).decode("ascii")


def _from_b64(text: str) -> Any:
    import numpy as np

    return np.frombuffer(base64.b64decode(text), dtype="<u8").astype(np.uint64)


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
            values = None if record["minhash"] is None else _from_b64(record["minhash"])
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
    _check_hub_token(config)
    by_index = sorted(shards, key=lambda s: s.index)
    with ExitStack() as stack:
        readers = [stack.enter_context(closing(s.lines())) for s in by_index]
        replay = ShardReplay(by_index, readers, read, config.seed, config.think_missing)
        result = build_mix(config, replay)
        for shard, reader in zip(by_index, readers, strict=True):
            if next(reader, None) is not None:
                raise InputError(f"{shard.output}: more rows than its sources have")
    out = write_mix(result, config)
    _publish(out, config)
    rows = sum(len(v) for v in result.splits.values())
    return MergeResult(out, None, len(shards), sum(read), rows, 0)
