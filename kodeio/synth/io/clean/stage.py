"""`kodeio io clean` / the pipeline's `io.clean`: seeds in, the kept ones out as kodeio seed rows.

Files:
- OUTPUT (CLEAN.jsonl): every kept seed as a kodeio seed row (`id`, `code`, `entry`,
  `inputs`, `input_generator`, descriptions), in input order.
- CLEAN.removed.jsonl: one row per dropped seed, `{seed_id, source, reason, method,
  matched: {source, id}, score}`; reason is "duplicate" or "contaminated", `source` the
  seed's file:line (seed ids repeat across files; file and id together name one seed).

Both are written at the end and renamed into place together, so a bad row anywhere leaves
neither behind. A seed whose code does not parse is kept: `kodeio io run` rejects it with
its reason, and nothing here can compare it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from kodeio.files import atomic_path, dumps, iter_jsonl
from kodeio.progress import progress_bar
from kodeio.synth.io.clean.benchmarks import parse_call, read_benchmark, seed_calls
from kodeio.synth.io.clean.matcher import (
    BenchmarkIndex,
    Fingerprinter,
    Match,
    SeedIndex,
    unparsable,
)
from kodeio.synth.io.clean.minhash import LshIndex
from kodeio.synth.io.clean.normalise import normalise
from kodeio.synth.io.clean.options import CleanOptions
from kodeio.synth.io.config import SeedFormat
from kodeio.synth.io.seed import RawCode, Seed
from kodeio.synth.io.seeds import read_hf_seeds, read_seeds


class CleanConfig(CleanOptions):
    seeds: list[Path] = Field(default_factory=list, description="seed files or directories")
    format: SeedFormat = Field("auto", description="seed format for every path; auto: per file")
    hf_dataset: str | None = Field(None, description="seeds from a Hugging Face dataset")
    hf_split: str = "train"
    hf_config: str | None = None
    hf_code_field: str = "code"
    output: Path = Field(description="CLEAN.jsonl: the kept seeds as kodeio seed rows")
    removed: Path | None = Field(None, description="default: OUTPUT with .removed.jsonl")

    @model_validator(mode="after")
    def _has_seeds(self) -> CleanConfig:
        if not self.seeds and not self.hf_dataset:
            raise ValueError("give seed paths (seeds) or a Hugging Face dataset (hf_dataset)")
        if self.removed_path == self.output:
            raise ValueError("removed must be another file than output")
        return self

    @property
    def removed_path(self) -> Path:
        return self.removed if self.removed is not None else removed_path(self.output)


def removed_path(output: Path) -> Path:
    """CLEAN.jsonl -> CLEAN.removed.jsonl."""
    name = output.name
    stem = name[: -len(".jsonl")] if name.endswith(".jsonl") else name
    return output.with_name(stem + ".removed.jsonl")


@dataclass
class CleanStats:
    output: Path
    removed_file: Path
    seeds_read: int = 0
    kept: int = 0
    unparsable: int = 0  # kept unchecked: the io stage rejects them
    benchmarks: dict[str, int] = field(default_factory=dict)  # functions per benchmark
    removed: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # reason, src, method

    def counts(self) -> dict[str, Any]:
        """The numbers `run.json` carries."""
        return {
            "seeds": self.seeds_read,
            "kept": self.kept,
            "benchmarks": dict(self.benchmarks),
            **tally(self.removed),
        }


def tally(removed: Counter[tuple[str, str, str]]) -> dict[str, Any]:
    """Removed seeds per reason, and per matched source and method."""
    by_reason: Counter[str] = Counter()
    by_source: dict[str, dict[str, int]] = {}
    for (reason, source, method), n in sorted(removed.items()):
        by_reason[reason] += n
        by_source.setdefault(source, {})[method] = n
    return {
        "duplicate": by_reason["duplicate"],
        "contaminated": by_reason["contaminated"],
        "removed": by_source,
    }


def removed_counts(path: Path) -> dict[str, Any]:
    """`tally` of a CLEAN.removed.jsonl written earlier."""
    removed: Counter[tuple[str, str, str]] = Counter()
    for _, row in iter_jsonl(path):
        removed[(row["reason"], row["matched"]["source"], row["method"])] += 1
    return tally(removed)


def removed_seeds(path: Path) -> set[tuple[str, str]]:
    """(seed id, seed source) of every seed a CLEAN.removed.jsonl lists."""
    return {(str(row["seed_id"]), str(row["source"])) for _, row in iter_jsonl(path, REMOVED_KEYS)}


REMOVED_KEYS = ("seed_id", "source", "reason", "method", "matched", "score")


class RemovedSeeds:
    """The seeds a CLEAN.removed.jsonl lists, asked about seeds and about raw code."""

    def __init__(self, path: Path) -> None:
        self.pairs = removed_seeds(path)
        self.sources: dict[str, list[str]] = {}
        for seed_id, source in self.pairs:
            self.sources.setdefault(seed_id, []).append(source)

    def has_seed(self, seed: Seed) -> bool:
        return (seed.id, seed.source) in self.pairs

    def has_raw(self, raw: RawCode) -> bool:
        """Whether the clean removed every function of `raw`, a file (or dataset row) a
        unifier is about to rewrite. The clean read the same source as seeds named
        `<raw id>#<function>` at `<raw source>:<line>` (kodeio/synth/io/discover.py). A raw
        file whose functions were only partly removed goes to the unifier, and the seed it
        writes is checked by `UnifiedCheck`."""
        prefix = raw.source + ":"
        return bool(raw.functions) and all(
            any(src.startswith(prefix) for src in self.sources.get(f"{raw.id}#{name}", ()))
            for name in raw.functions
        )


class UnifiedCheck:
    """The benchmark tests of the clean, put to seeds a unifier wrote. The clean before `io`
    saw only the raw code; a rewrite can reproduce a benchmark function the raw file only
    resembled, so the seed that will actually run is checked too (contamination only:
    duplicates among rewritten seeds are caught later by the pairs' dedup)."""

    def __init__(self, options: CleanOptions) -> None:
        self.fingerprint = Fingerprinter(options.shingle, options.num_perm)
        self.benchmarks = build_benchmark_index(options, self.fingerprint)

    def match(self, seed: Seed) -> Match | None:
        normalised = normalise(seed.code)
        if normalised is None:
            return None  # the io stage rejects code that does not parse, with its reason
        return self.benchmarks.match(self.fingerprint(normalised), seed_calls(seed))


def seed_row(seed: Seed) -> dict[str, Any]:
    """A seed as a kodeio seed row. Inputs JSON cannot hold exactly (tuples, sets) are left
    out: a kodeio seed takes JSON values, and the io stage makes new inputs for it."""
    inputs = []
    for given in seed.inputs:
        call = parse_call(given) if isinstance(given, str) else (given["args"], given["kwargs"])
        if call is None:
            continue
        value = {"args": list(call[0]), "kwargs": dict(call[1])}
        try:
            if json.loads(json.dumps(value)) == value:
                inputs.append(value)
        except (TypeError, ValueError):
            continue
    row: dict[str, Any] = {"id": seed.id, "code": seed.code, "entry": seed.entry}
    if inputs:
        row["inputs"] = inputs
    optional = {"input_generator": seed.input_generator, **seed.descriptions}
    row.update({k: v for k, v in optional.items() if v is not None})
    return row


def removed_row(seed: Seed, reason: str, match: Match) -> dict[str, Any]:
    return {
        "seed_id": seed.id,
        "source": seed.source,
        "reason": reason,
        "method": match.method,
        "matched": {"source": match.source, "id": match.id},
        "score": match.score,
    }


def _seeds(config: CleanConfig) -> Iterator[Seed]:
    if config.seeds:
        for item in read_seeds(config.seeds, config.format):
            assert isinstance(item, Seed)  # raw_python is off: .py files yield seeds
            yield item
    if config.hf_dataset:
        c = config
        for item in read_hf_seeds(c.hf_dataset, c.hf_split, c.hf_code_field, False, c.hf_config):
            assert isinstance(item, Seed)
            yield item


def build_benchmark_index(config: CleanOptions, fingerprint: Fingerprinter) -> BenchmarkIndex:
    items = []
    for spec in config.against:
        for item in read_benchmark(spec):
            normalised = normalise(item.code)
            if normalised is None:
                raise unparsable(item)
            items.append((item, fingerprint(normalised)))
    return BenchmarkIndex(
        items,
        ngram=config.ngram,
        ngram_threshold=config.ngram_threshold,
        boilerplate_share=config.boilerplate_share,
        minhash=LshIndex(config.num_perm, config.minhash_threshold),
        io_min_chars=config.io_min_chars,
        part_min_tokens=config.part_min_tokens,
    )


def run_clean(config: CleanConfig, progress: bool | None = None) -> CleanStats:
    stats = CleanStats(config.output, config.removed_path)
    fingerprint = Fingerprinter(config.shingle, config.num_perm)
    benchmarks = build_benchmark_index(config, fingerprint)
    for item in benchmarks.items:
        stats.benchmarks[item.source] = stats.benchmarks.get(item.source, 0) + 1
    seen = SeedIndex(LshIndex(config.num_perm, config.minhash_threshold))
    out, gone = config.output, config.removed_path
    with (
        atomic_path(out) as out_tmp,
        atomic_path(gone) as gone_tmp,
        out_tmp.open("w", encoding="utf-8") as kept_fh,
        gone_tmp.open("w", encoding="utf-8") as gone_fh,
        progress_bar("clean", None, progress) as bar,
    ):
        for seed in _seeds(config):
            stats.seeds_read += 1
            bar.advance(0)
            normalised = normalise(seed.code)
            if normalised is None:
                stats.unparsable += 1
            else:
                fp = fingerprint(normalised)
                verdict = ("contaminated", benchmarks.match(fp, seed_calls(seed)))
                if verdict[1] is None and config.dedup:
                    verdict = ("duplicate", seen.match(fp))
                reason, match = verdict
                if match is not None:
                    stats.removed[(reason, match.source, match.method)] += 1
                    gone_fh.write(dumps(removed_row(seed, reason, match)) + "\n")
                    continue
                seen.add(seed.id, fp)
            stats.kept += 1
            kept_fh.write(dumps(seed_row(seed)) + "\n")
    return stats
