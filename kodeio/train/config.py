"""The `train` stage config: LoRA SFT of a causal LM on `messages` conversations.

Light on purpose (pydantic only): `kodeio train --help` imports this module.
A `preset` fills in every key the user did not set (see `PRESETS` and docs/training.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from kodeio.config import StageConfig
from kodeio.train.grpo_config import GrpoOptions

DEFAULT_MODEL = "unsloth/DeepSeek-R1-Distill-Qwen-32B-unsloth-bnb-4bit"
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

# Memory presets. VRAM figures (docs/training.md) are for one GPU, LoRA on all projections.
PRESETS: dict[str, dict[str, Any]] = {
    "r1-32b-24gb": {
        "model": DEFAULT_MODEL,
        "load_in_4bit": True,
        "max_seq_length": 4096,
        "per_device_train_batch_size": 1,
        "gradient_accumulation_steps": 16,
        "lora_r": 16,
        "gradient_checkpointing": "unsloth",
        "optim": "adamw_8bit",
    },
    "r1-14b-16gb": {
        "model": "unsloth/DeepSeek-R1-Distill-Qwen-14B-unsloth-bnb-4bit",
        "load_in_4bit": True,
        "max_seq_length": 8192,
        "per_device_train_batch_size": 1,
        "gradient_accumulation_steps": 16,
        "lora_r": 16,
        "gradient_checkpointing": "unsloth",
        "optim": "adamw_8bit",
    },
    "r1-7b-12gb": {
        "model": "unsloth/DeepSeek-R1-Distill-Qwen-7B-unsloth-bnb-4bit",
        "load_in_4bit": True,
        "max_seq_length": 8192,
        "per_device_train_batch_size": 2,
        "gradient_accumulation_steps": 8,
        "lora_r": 32,
        "gradient_checkpointing": "unsloth",
        "optim": "adamw_8bit",
    },
    "r1-1.5b-8gb": {
        "model": "unsloth/DeepSeek-R1-Distill-Qwen-1.5B-unsloth-bnb-4bit",
        "load_in_4bit": True,
        "max_seq_length": 8192,
        "per_device_train_batch_size": 4,
        "gradient_accumulation_steps": 4,
        "lora_r": 32,
        "gradient_checkpointing": "unsloth",
        "optim": "adamw_8bit",
    },
    # Offline smoke runs on a laptop CPU with a tiny or small local model.
    "cpu-smoke": {
        "load_in_4bit": False,
        "dtype": "float32",
        "max_seq_length": 1024,
        "per_device_train_batch_size": 2,
        "gradient_accumulation_steps": 1,
        "lora_r": 8,
        "gradient_checkpointing": False,
        "optim": "adamw_torch",
        "sample_max_new_tokens": 32,
    },
}


class TrainConfig(StageConfig):
    """LoRA SFT settings. Paths are relative to the current directory."""

    preset: str | None = Field(None, description=f"One of {', '.join(PRESETS)}; fills unset keys.")
    method: Literal["sft", "grpo"] = Field(
        "sft", description="sft: LoRA SFT on conversations; grpo: RL on execution rewards."
    )
    grpo: GrpoOptions = Field(
        default_factory=GrpoOptions, description="GRPO settings (method: grpo); docs/rl.md."
    )
    model: str = Field(DEFAULT_MODEL, description="Base model: hub id or local HF directory.")
    data: list[str] = Field(
        default_factory=list,
        description="Datasets: `kodeio data mix` dirs (save_to_disk, train/eval splits) or JSONL of {messages}.",
    )
    run_dir: Path | None = Field(
        None, description="Recipe run directory; output_dir defaults to RUN_DIR/train."
    )
    output_dir: Path | None = Field(
        None, description="Where the adapter, checkpoints and reports go."
    )
    seed: int = 0

    backend: Literal["auto", "unsloth", "transformers"] = Field(
        "auto", description="auto: Unsloth, falling back to transformers+peft+TRL with a warning."
    )
    load_in_4bit: bool | None = Field(
        None, description="None: yes for '*bnb-4bit' models on a GPU."
    )
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="auto: bf16 on GPUs that support it, else fp16; float32 on CPU."
    )

    max_seq_length: int = Field(8192, ge=16, description="Cap on the training length (tokens).")
    length_percentile: float = Field(
        100.0,
        gt=0,
        le=100,
        description="max_length = this percentile of the data's token lengths, capped.",
    )
    over_length: Literal["drop", "truncate"] = Field(
        "drop",
        description="Rows longer than max_length: drop (counted in train_summary.json) or "
        "truncate (they lose their final answer and EOS).",
    )
    packing: bool = Field(
        True, description="TRL bfd packing (padding-free) where the backend supports it."
    )

    lora_r: int = Field(16, ge=1)
    lora_alpha: int | None = Field(
        None, description="None: equal to lora_r (Unsloth's recommendation)."
    )
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: list[str] = Field(default_factory=lambda: list(LORA_TARGETS))

    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(
        None, description="Stop after this many optimizer steps (overrides epochs)."
    )
    learning_rate: float = Field(2e-4, gt=0)
    lr_scheduler_type: str = "linear"
    warmup_steps: int = Field(5, ge=0)
    weight_decay: float = Field(0.01, ge=0)
    per_device_train_batch_size: int = Field(1, ge=1)
    gradient_accumulation_steps: int = Field(8, ge=1)
    gradient_checkpointing: bool | Literal["unsloth"] = Field(
        "unsloth",
        description="'unsloth' offloads activations (Unsloth only; plain true elsewhere).",
    )
    optim: str = Field("auto", description="auto: adamw_8bit on GPU, adamw_torch on CPU.")
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(50, ge=1, description="Checkpoint every N optimizer steps.")
    save_total_limit: int | None = Field(3, ge=1)
    eval_steps: int | None = Field(
        None, ge=1, description="Evaluate every N steps (needs an eval split)."
    )
    report_to: list[Literal["tensorboard", "wandb"]] = Field(
        default_factory=list, description="Empty: no reporting integrations (wandb stays off)."
    )
    resume: bool = Field(
        False, description="Continue from the latest complete checkpoint in output_dir."
    )
    init_adapter: Path | None = Field(
        None,
        description="A LoRA adapter dir to start from, trained further (e.g. SFT's before "
        "GRPO); its r, lora_alpha and target_modules replace this config's.",
    )

    chat_template: Path | None = Field(
        None,
        description="A training chat template with {% generation %} markers, for families kodeio does not know.",
    )
    samples: bool = Field(
        True, description="Before/after generations on fixed prompts into samples.md."
    )
    sample_prompts: Path | None = Field(
        None, description="JSONL of {id, messages}; default: the bundled three."
    )
    sample_max_new_tokens: int = Field(256, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") is not None:
            preset = PRESETS.get(str(data["preset"]))
            if preset is None:
                return data  # the field validator names the choices
            return {**preset, **data}
        return data

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in PRESETS:
            raise ValueError(f"unknown preset; expected one of {', '.join(PRESETS)}")
        return value

    @property
    def resolved_output_dir(self) -> Path:
        if self.output_dir is not None:
            return self.output_dir
        if self.run_dir is not None:
            return self.run_dir / "train"
        return Path("runs/train")
