"""How a model is reached: the engine settings shared by every stage that generates.

`kodeio synth run`, the unify step and the `kodeio eval` commands each keep these keys in
their own YAML section (`backend`, `model`, `vllm:`, `openai:`, `transformers:`,
`sampling:` ...) and hand `make_backend` an `EngineConfig` built from them (their
`engine()` method), so the backends never need to know which stage asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from kodeio.config import StageConfig

BackendName = Literal["vllm", "openai", "transformers", "scripted"]
# vLLM's CacheDType values for NVIDIA GPUs; fp8 is fp8_e4m3 (half the bytes of bf16 per token).
KvCacheDtype = Literal["auto", "bfloat16", "float16", "fp8", "fp8_e4m3", "fp8_e5m2"]


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
        None,
        description="vLLM method, e.g. 'awq_marlin', 'gptq_marlin', 'fp8'; None: the "
        "checkpoint's own (its config.json); `kodeio plan` checks vLLM has it",
    )
    kv_cache_dtype: KvCacheDtype = Field(
        "auto", description="KV cache precision; 'fp8' halves it (auto: the model's dtype)"
    )
    max_num_seqs: int | None = Field(
        None, ge=1, description="sequences decoded at once (None: vLLM's default, 256 or 1024)"
    )
    enable_prefix_caching: bool | None = Field(
        None, description="reuse the KV cache of shared prompt prefixes (None: vLLM's default)"
    )
    enforce_eager: bool | None = Field(None, description="None: True on CPU (fast start)")
    lora_path: str | None = Field(None, description="a PEFT LoRA adapter to apply")
    enable_lora: bool = Field(
        False, description="serve LoRA adapters named per request (set by kodeio, e.g. eval)"
    )
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


class EngineConfig(StageConfig):
    """Everything `make_backend` needs to start an engine, and nothing a stage adds."""

    backend: BackendName = "vllm"
    model: str = Field(..., description="model id or local directory ('scripted': unused)")
    think_prefix: bool = Field(
        True, description="make the generation prompt end in '<think>\\n' (R1 style)"
    )
    concurrency: int = Field(16, ge=1, description="requests in flight (openai backend)")
    seed: int = Field(0, ge=0, description="engine seed (vllm); requests carry their own")
    vllm: VllmConfig = Field(default_factory=VllmConfig)
    openai: OpenAIConfig = Field(default_factory=OpenAIConfig)
    transformers: TransformersConfig = Field(default_factory=TransformersConfig)
    script: Path | None = Field(
        None, description="scripted backend only: JSON file of canned completions"
    )

    @classmethod
    def of(cls, stage: Any, model: str | None = None) -> EngineConfig:
        """The engine fields of a stage config that carries them (synth, unify, eval)."""
        return cls(
            backend=stage.backend,
            model=model or stage.model,
            think_prefix=stage.think_prefix,
            concurrency=stage.concurrency,
            seed=stage.sampling.seed,
            vllm=stage.vllm,
            openai=stage.openai,
            transformers=stage.transformers,
            script=stage.script,
        )
