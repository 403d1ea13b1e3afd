"""Config of the seeds -> I/O pairs stage (`kodeio io run`, recipe section `io`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from kodeio.config import StageConfig
from kodeio.sandbox.config import SandboxConfig
from kodeio.scale.shards import parse_shard
from kodeio.synth.io.filters import FilterConfig

SeedFormat = Literal["auto", "codeio", "cruxeval", "kodeio", "py"]


class IoConfig(StageConfig):
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
    per_seed: int = Field(3, ge=1, description="at most this many inputs per seed, from any source")
    generator_tries: int = Field(30, ge=1, description="input_generator calls per seed at most")
    hypothesis_examples: int = Field(24, ge=1, description="examples drawn per seed before picking")
    seed: int = Field(0, ge=0, description="root of every per-seed RNG seed")
    hash_seeds: tuple[int, int] = Field((1, 2), description="PYTHONHASHSEED of the two runs")
    chunk_seeds: int = Field(256, ge=1, description="seeds processed per batch (memory vs. idle)")
    shard: str | None = Field(None, description="K/N: only seeds whose index mod N is K-1")
    unifier: str | None = Field(None, description="module:factory of a Unifier for raw .py code")
    ray: str | None = Field(
        None, description="run chunks as Ray tasks: a cluster address, or auto (attach or start)"
    )
    ray_task_cpus: float = Field(
        1, gt=0, description="CPUs each Ray task reserves; its sandbox gets that many workers"
    )
    ray_retries: int = Field(3, ge=0, description="reruns of a task whose worker or node died")
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

    @field_validator("shard")
    @classmethod
    def _shard(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parse_shard(value)
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
        if self.rejects is not None:
            return self.rejects
        name = self.output.name
        stem = name[: -len(".jsonl")] if name.endswith(".jsonl") else name
        return self.output.with_name(stem + ".rejects.jsonl")

    @property
    def shard_index(self) -> tuple[int, int]:
        return parse_shard(self.shard) if self.shard else (0, 1)
