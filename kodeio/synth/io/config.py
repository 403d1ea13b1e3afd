"""Config of the seeds -> I/O pairs stage (`kodeio io run`, recipe section `io`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from kodeio.sandbox.config import SandboxConfig
from kodeio.scale.shards import ScaleOutOptions
from kodeio.synth.io.clean.options import CleanOptions
from kodeio.synth.io.filters import FilterConfig

SeedFormat = Literal["auto", "codeio", "cruxeval", "kodeio", "py"]


class IoConfig(ScaleOutOptions):
    seeds: list[Path] = Field(default_factory=list, description="seed files or directories")
    output: Path = Field(description="IO.jsonl: one verified (input, output) pair per row")
    rejects: Path | None = Field(
        None, description="rejects JSONL; default: OUTPUT with .rejects.jsonl"
    )
    format: SeedFormat = Field("auto", description="seed format for every path; auto: per file")
    hf_dataset: str | None = Field(
        None, description="a Hugging Face dataset: local path or cached name"
    )
    hf_split: str = "train"
    hf_config: str | None = Field(
        None, description="the dataset's configuration name, if it has several"
    )
    hf_code_field: str = Field("code", description="the field holding Python source")
    exclude_seeds: Path | None = Field(
        None, description="a CLEAN.removed.jsonl (kodeio io clean): the seeds it lists are left out"
    )
    per_seed: int = Field(3, ge=1, description="at most this many inputs per seed, from any source")
    generator_tries: int = Field(30, ge=1, description="input_generator calls per seed at most")
    hypothesis_examples: int = Field(24, ge=1, description="examples drawn per seed before picking")
    seed: int = Field(0, ge=0, description="root of every per-seed RNG seed")
    hash_seeds: tuple[int, int] = Field((1, 2), description="PYTHONHASHSEED of the two runs")
    chunk_seeds: int = Field(256, ge=1, description="seeds processed per batch (memory vs. idle)")
    unifier: str | None = Field(None, description="module:factory of a Unifier for raw .py code")
    clean_unified: CleanOptions | None = Field(
        None,
        description="with a unifier: check each rewritten seed against these benchmarks "
        "(the pipeline passes io.clean)",
    )
    filters: FilterConfig = Field(default_factory=FilterConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)

    @field_validator("hash_seeds")
    @classmethod
    def _distinct(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] == value[1]:
            raise ValueError("the two hash seeds must differ, or set-order dependence goes unseen")
        if min(value) < 0 or max(value) > 4294967295:
            raise ValueError("hash seeds must be in 0..4294967295")
        return value

    @model_validator(mode="after")
    def _has_seeds(self) -> IoConfig:
        if not self.seeds and not self.hf_dataset:
            raise ValueError("give seed paths (seeds) or a Hugging Face dataset (hf_dataset)")
        if self.rejects_path == self.output:
            raise ValueError("rejects must be another file than output")
        return self

    @property
    def rejects_path(self) -> Path:
        return self.rejects if self.rejects is not None else default_rejects_path(self.output)

    @property
    def ledger_path(self) -> Path:
        return seed_ledger_path(self.output)


def default_rejects_path(output: Path) -> Path:
    """OUT.jsonl -> OUT.rejects.jsonl."""
    name = output.name
    stem = name[: -len(".jsonl")] if name.endswith(".jsonl") else name
    return output.with_name(stem + ".rejects.jsonl")


def seed_ledger_path(output: Path) -> Path:
    """The ledger of finished seeds beside OUT (and, for a shard, each seed's outcome)."""
    return output.with_name(output.name + ".seeds")
