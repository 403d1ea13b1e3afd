"""The synthesis stage's config: which model writes the traces, how, and what is checked.

CLI flags of `kodeio synth run` map onto these keys (`--backend` -> `backend`,
`--base-url` -> `openai.base_urls`, `--n-samples` -> `sampling.n_samples`, ...). A recipe
file's `synth:` section validates against `SynthConfig`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from kodeio.config import StageConfig
from kodeio.sandbox.config import SandboxConfig
from kodeio.scale.shards import ScaleOutOptions

Mode = Literal["output", "input"]
BackendName = Literal["vllm", "openai", "transformers", "scripted"]
Language = Literal["en", "ko"]

DEFAULT_MODEL = "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"


class SamplingConfig(StageConfig):
    """DeepSeek-R1's recommendations by default: T=0.6, top_p=0.95, a generous budget."""

    temperature: float = Field(0.6, ge=0.0, le=2.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_tokens: int = Field(16384, ge=1, description="completion budget per turn")
    n_samples: int = Field(1, ge=1, le=64, description="first-turn samples per prompt")
    seed: int = Field(0, ge=0, description="base seed; each request derives its own")


class VllmConfig(StageConfig):
    """In-process `vllm.LLM` settings. CPU-only machines get safe defaults automatically."""

    dtype: str = "auto"
    max_model_len: int | None = Field(None, ge=64)
    gpu_memory_utilization: float | None = Field(
        None, gt=0.0, le=1.0, description="GPU: fraction of memory (default 0.9)"
    )
    kv_cache_gb: float | None = Field(
        None, gt=0.0, description="KV cache size; on CPU default = 25% of free RAM, <= 8 GB"
    )
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs one model is split over")
    pipeline_parallel_size: int = Field(1, ge=1, description="pipeline stages (GPUs or nodes)")
    data_parallel_size: int = Field(
        1, ge=1, description="1 only: data parallelism is replicas behind openai.base_urls"
    )
    quantization: str | None = Field(
        None, description="e.g. 'bitsandbytes' for unsloth/*-bnb-4bit checkpoints"
    )
    enforce_eager: bool | None = Field(None, description="None: True on CPU (fast start)")
    lora_path: str | None = Field(None, description="a PEFT LoRA adapter to apply")
    max_lora_rank: int = Field(64, ge=1)
    trust_remote_code: bool = False

    @field_validator("data_parallel_size")
    @classmethod
    def _no_in_process_dp(cls, value: int) -> int:
        if value > 1:  # vllm 0.32's LLM(...) raises: "not supported for single-process usage"
            raise ValueError(
                "in-process vLLM cannot run data parallel; start `vllm serve --data-parallel-size "
                f"{value}` (or {value} replicas) and use backend openai with their base_urls"
            )
        return value


class OpenAIConfig(StageConfig):
    """Any OpenAI-compatible server (`vllm serve`, llama.cpp's server, SGLang)."""

    base_urls: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8000/v1"],
        min_length=1,
        description="replicas (e.g. one `vllm serve` per node or GPU group), shared per balance",
    )
    balance: Literal["round_robin", "least_loaded"] = Field(
        "round_robin",
        description="round_robin: in turn; least_loaded: fewest requests in flight first",
    )
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="environment variable holding the key (never logged)"
    )
    tokenizer: str | None = Field(
        None,
        description="render prompts with this tokenizer's chat template and call "
        "/v1/completions; unset: /v1/chat/completions",
    )
    timeout: float = Field(600.0, gt=0, description="seconds per request (read timeout)")
    connect_timeout: float = Field(10.0, gt=0)
    max_retries: int = Field(8, ge=0, description="per request, on 429/5xx/dropped connections")
    backoff_base: float = Field(0.5, gt=0)
    backoff_max: float = Field(30.0, gt=0)

    @field_validator("base_urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"base URL {url!r} must start with http:// or https://")
        return [u.rstrip("/") for u in urls]


class TransformersConfig(StageConfig):
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    device: str = "cpu"


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
