"""The export stage's config (recipe section `export`)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from kodeio.config import StageConfig
from kodeio.export.quants import normalize_quant

Target = Literal["adapter", "merged", "gguf"]
ALL_TARGETS: tuple[Target, ...] = ("adapter", "merged", "gguf")


class ExportConfig(StageConfig):
    """What to export from a trained run (or an adapter + base), and where."""

    targets: list[Target] = Field(
        default_factory=lambda: list(ALL_TARGETS),
        description="adapter, merged, gguf (the CLI's subcommand; `all` is all three).",
    )
    run_dir: str | None = Field(
        None, description="Training run directory: RUN/adapter and RUN/config.yaml (model key)."
    )
    adapter: str | None = Field(None, description="PEFT adapter directory (default RUN/adapter).")
    base: str | None = Field(
        None,
        description="Base model to merge onto: name (smollm2-135m), directory or hub id "
        "(default: the run's `model`, else the adapter's base_model_name_or_path; a 4-bit one "
        "is swapped for its 16-bit original, see kodeio/export/base.py).",
    )
    merge_onto_4bit: bool = Field(
        False,
        description="Merge onto the dequantized 4-bit (NF4) weights when the base is a "
        "bitsandbytes 4-bit checkpoint, instead of its 16-bit original (about +20% perplexity).",
    )
    output: str | None = Field(None, description="Output directory (default RUN/export).")
    name: str | None = Field(None, description="File name stem (default: the run's name).")
    quant: list[str] = Field(
        default_factory=lambda: ["f16", "q8_0", "q4_k_m"],
        description="GGUF types: f32, f16, bf16 (converter) and q8_0 and k-quants such as "
        "q4_k_m, q5_k_m, q6_k (quantizer, from the f16 GGUF).",
    )
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="Merged weights dtype; auto = bf16 (fp16 on GPUs without bf16)."
    )
    max_shard_size: str = Field("2GB", description="Merged safetensors shard size.")
    llama_cpp: str | None = Field(
        None,
        description="A llama.cpp checkout to convert with (else KODEIO_LLAMA_CPP, else cache).",
    )
    verify: bool | None = Field(
        None, description="Parity check HF vs GGUF; default on for models up to verify_max_params."
    )
    verify_max_params: int = Field(3_000_000_000, ge=0)
    verify_prompts: list[str] | None = Field(
        None, description="User messages for the parity check (default: a built-in set)."
    )
    verify_tokens: int = Field(24, ge=1, le=512)
    push_to_hub: str | None = Field(None, description="Hub repo id (owner/name) to upload to.")
    private: bool = False

    @field_validator("quant", mode="before")
    @classmethod
    def _split_quant(cls, value: object) -> object:
        if isinstance(value, str):
            return [q for q in value.split(",") if q.strip()]
        return value

    @field_validator("quant")
    @classmethod
    def _check_quant(cls, value: list[str]) -> list[str]:
        out = list(dict.fromkeys(normalize_quant(q) for q in value))
        if not out:
            raise ValueError("expected at least one GGUF type, e.g. f16,q4_k_m")
        return out

    @field_validator("push_to_hub")
    @classmethod
    def _check_repo(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", value):
            raise ValueError(f"expected a hub repo id like owner/name, got {value!r}")
        return value

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9][\w.-]*", value):
            raise ValueError("expected letters, digits, '.', '_' or '-'")
        return value

    @model_validator(mode="after")
    def _need_source(self) -> ExportConfig:
        if self.run_dir is None and self.adapter is None:
            raise ValueError("give run_dir (--run RUN_DIR) or adapter (--adapter DIR)")
        if self.run_dir is None and self.output is None:
            raise ValueError("give output (-o OUT) when exporting from --adapter")
        return self
