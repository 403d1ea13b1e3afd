"""The synthesis stage's config: which model writes the traces, how, and what is checked.

CLI flags of `kodeio synth run` map onto these keys (`--backend` -> `backend`,
`--base-url` -> `openai.base_urls`, `--n-samples` -> `sampling.n_samples`, ...). A recipe
file's `synth:` section validates against `SynthConfig`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from kodeio.llm.config import (
    BackendName,
    EngineConfig,
    OpenAIConfig,
    SamplingConfig,
    TransformersConfig,
    VllmConfig,
)
from kodeio.sandbox.config import SandboxConfig
from kodeio.scale.shards import ScaleOutOptions
from kodeio.synth.difficulty import DifficultyConfig
from kodeio.synth.language import LanguageCheckConfig

Mode = Literal["output", "input"]
Language = Literal["en", "ko"]

DEFAULT_MODEL = "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"


# Backends a Ray task can run: a client of model servers, or the test script. An in-process
# engine would load the model once per task.
RAY_BACKENDS = ("openai", "scripted")


class SynthConfig(ScaleOutOptions):
    """`kodeio synth run`: I/O pairs in, execution-verified reasoning traces out."""

    # Where and how the model is reached: shards of one run may use other replicas.
    not_results: ClassVar[frozenset[str]] = frozenset(
        {"concurrency", "keep_journal"}
        | {
            f"openai.{k}"
            for k in (
                "base_urls",
                "balance",
                "api_key_env",
                "timeout",
                "connect_timeout",
                "max_retries",
                "backoff_base",
                "backoff_max",
            )
        }  # fmt: skip
    )

    run_dir: Path | None = Field(None, description="recipe default for pairs/output paths")
    pairs: Path | None = Field(None, description="I/O pairs JSONL (from `kodeio io run`)")
    output: Path | None = Field(None, description="traces JSONL")
    backend: BackendName = "vllm"
    model: str = DEFAULT_MODEL
    modes: list[Mode] = Field(default_factory=lambda: ["output", "input"], min_length=1)
    revisions: int = Field(1, ge=0, le=5, description="CodeI/O++ revision turns after a miss")
    concurrency: int = Field(16, ge=1, description="requests in flight (openai backend)")
    batch_size: int = Field(
        0, ge=0, description="requests per engine call; 0: vllm 256, openai 8 x concurrency"
    )
    reasoning_language: Language = "en"
    language_check: LanguageCheckConfig = Field(
        default_factory=LanguageCheckConfig,
        description="reasoning_language ko: when a verified trace is a language_mismatch",
    )
    difficulty: DifficultyConfig = Field(
        default_factory=DifficultyConfig,
        description="sampling.n_samples > 1: pass-rate limits of the easy/medium/hard bands",
    )
    system_prompt: str | None = Field(None, description="R1: none (the default)")
    think_prefix: bool = Field(
        True, description="make the generation prompt end in '<think>\\n' (R1 style)"
    )
    max_pairs: int | None = Field(None, ge=1, description="use only the first N pairs")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    vllm: VllmConfig = Field(default_factory=VllmConfig)
    openai: OpenAIConfig = Field(default_factory=OpenAIConfig)
    transformers: TransformersConfig = Field(default_factory=TransformersConfig)
    sandbox: SandboxConfig = Field(default_factory=lambda: SandboxConfig(workers=2))
    verify: dict[str, Any] = Field(
        default_factory=dict, description="passed to kodeio.synth.verify.VerifyConfig"
    )
    script: Path | None = Field(
        None, description="scripted backend only: JSON file of canned completions"
    )
    keep_journal: bool = Field(False, description="keep OUT.gen.jsonl after a complete run")
    chunk_pairs: int = Field(16, ge=1, description="pairs per Ray task (--ray)")

    @field_validator("modes")
    @classmethod
    def _unique_modes(cls, modes: list[Mode]) -> list[Mode]:
        return list(dict.fromkeys(modes))

    @model_validator(mode="after")
    def _ray_backend(self) -> SynthConfig:
        if self.ray is not None and self.backend not in RAY_BACKENDS:
            raise ValueError(
                f"--ray runs backend openai, not {self.backend}: an in-process engine would load "
                "the model in every Ray task; serve it with `vllm serve` (tensor/pipeline "
                "parallel flags there) and list the replicas in openai.base_urls "
                "(docs/scaling.md#synthesis)"
            )
        return self

    @model_validator(mode="after")
    def _paths(self) -> SynthConfig:
        if self.run_dir is not None:
            if self.pairs is None:
                self.pairs = self.run_dir / "io.jsonl"
            if self.output is None:
                self.output = self.run_dir / "traces.jsonl"
        return self

    def effective_batch_size(self) -> int:
        if self.batch_size:
            return self.batch_size
        if self.backend == "openai":
            return 8 * self.concurrency
        if self.backend == "transformers":
            return 8
        return 256

    def engine(self) -> EngineConfig:
        """The engine settings `kodeio.llm.make_backend` starts a backend from."""
        return EngineConfig.of(self)
