"""Model loading: Unsloth first, plain transformers + peft as the fallback.

Unsloth must be imported before transformers/trl/peft so its patches apply, so
`select_backend` is called before anything imports transformers. Unsloth 2026.10 trains on
CPU when no GPU is found (the install must not contain torchvision). If Unsloth cannot be
imported or cannot load the model, the same config runs on transformers + peft + TRL and
a warning says so; that includes an import that kills the process (SIGILL on a CPU without
some instruction set), caught by importing Unsloth in a child first. The choice is logged
and written to train_summary.json.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kodeio.errors import ConfigError, InputError, KodeioError
from kodeio.train.config import TrainConfig

log = logging.getLogger(__name__)


@dataclass
class Precision:
    device: str  # "cuda" or "cpu"
    dtype_name: str  # bfloat16 | float16 | float32
    bf16: bool
    fp16: bool

    @property
    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype_name)


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    backend: str
    precision: Precision
    fallback_reason: str | None = None


def select_backend(requested: str) -> tuple[str, str | None]:
    """Return (backend, reason for falling back or None). Imports unsloth when chosen.

    Unsloth is first imported in a child process (kodeio.train.unsloth_import): a native
    crash there, which no `except` could catch in-process, becomes a fallback reason."""
    if requested == "transformers":
        return "transformers", None
    from kodeio.train import unsloth_import

    died = unsloth_import.probe_unsloth()
    if died is not None:
        if not died.fallback_survives:
            raise KodeioError(died.line("transformers + PEFT need it too, so training stopped"))
        if requested == "unsloth":
            raise ConfigError(
                "train.backend is 'unsloth' but "
                + died.line("set train.backend to auto or transformers")
            )
        return "transformers", died.line(None)
    blocked = unsloth_import.block_unrunnable_vllm_kernels()
    if blocked:
        log.info("vllm._C (AVX-512 + BF16) kept unloaded: this CPU runs %s", blocked)
    try:
        import unsloth  # noqa: F401  (patches transformers/trl/peft on import)
    except Exception as exc:  # ImportError, or a CUDA/torchvision op failing at import
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if requested == "unsloth":
            raise ConfigError(
                f"train.backend is 'unsloth' but Unsloth cannot be imported ({reason})"
            ) from None
        return "transformers", f"Unsloth unavailable ({reason})"
    return "unsloth", None


def pick_precision(config: TrainConfig) -> Precision:
    import torch

    if torch.cuda.is_available():
        if config.dtype == "auto":
            name = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        else:
            name = config.dtype
        return Precision("cuda", name, bf16=name == "bfloat16", fp16=name == "float16")
    # CPU: fp16 autocast is unsupported; bf16 autocast works but float32 is exact and not slower here.
    name = "float32" if config.dtype == "auto" else config.dtype
    if name == "float16":
        raise ConfigError("train.dtype float16 needs a GPU; use float32 or bfloat16 on CPU")
    return Precision("cpu", name, bf16=name == "bfloat16", fp16=False)


def wants_4bit(config: TrainConfig, precision: Precision) -> bool:
    if config.load_in_4bit is None:
        return precision.device == "cuda" and "bnb-4bit" in config.model.lower()
    if config.load_in_4bit and precision.device != "cuda":
        raise ConfigError(
            "train.load_in_4bit needs a CUDA GPU (bitsandbytes 4-bit); set load_in_4bit: false on CPU"
        )
    return config.load_in_4bit


def model_source(config: TrainConfig) -> str:
    """Where the base weights load from: a known name (`smollm2-135m`) is its prepared
    directory, so `kodeio train --model smollm2-135m` works offline as the recipes do;
    config.model keeps the name for the adapter and the reports."""
    from kodeio.models import resolve_model

    return resolve_model(config.model)


def lora_alpha(config: TrainConfig) -> int:
    return config.lora_alpha if config.lora_alpha is not None else config.lora_r


def load_unsloth(config: TrainConfig, max_length: int, precision: Precision) -> tuple[Any, Any]:
    from unsloth import FastLanguageModel

    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=model_source(config),
        max_seq_length=max_length,
        dtype=precision.torch_dtype,
        load_in_4bit=wants_4bit(config, precision),
        full_finetuning=False,
    )
    return model, tokenizer


def add_lora_unsloth(config: TrainConfig, model: Any, max_length: int) -> Any:
    from unsloth import FastLanguageModel

    gc = config.gradient_checkpointing
    return FastLanguageModel.get_peft_model(
        model,
        r=config.lora_r,
        lora_alpha=lora_alpha(config),
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        bias="none",
        use_gradient_checkpointing=gc,
        random_state=config.seed,
        max_seq_length=max_length,
    )


def load_transformers(config: TrainConfig, precision: Precision) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {"dtype": precision.torch_dtype}
    if wants_4bit(config, precision):
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=precision.torch_dtype,
        )
    if precision.device == "cuda":
        kwargs["device_map"] = {"": 0}
    source = model_source(config)
    model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(source)
    return model, tokenizer


def add_lora_transformers(config: TrainConfig, model: Any) -> Any:
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if getattr(model, "is_loaded_in_4bit", False):
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=bool(config.gradient_checkpointing)
        )
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=lora_alpha(config),
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def load_base(
    config: TrainConfig, backend: str, max_length: int, precision: Precision
) -> tuple[Any, Any, str, str | None]:
    """Load the base model; on an Unsloth failure under backend=auto fall back to transformers."""
    if backend == "unsloth":
        try:
            model, tokenizer = load_unsloth(config, max_length, precision)
            return model, tokenizer, "unsloth", None
        except (OSError, ValueError) as exc:
            # A missing model is the user's problem on either backend: don't mask it as a fallback.
            if "not a valid model identifier" in str(exc) or "does not appear to have" in str(exc):
                raise ConfigError(
                    f"train.model {config.model!r}: cannot load ({str(exc).splitlines()[0]})"
                ) from None
            if config.backend == "unsloth":
                raise
            reason = f"Unsloth could not load the model ({type(exc).__name__}: {str(exc).splitlines()[0]})"
        except Exception as exc:  # Unsloth raising on an unsupported architecture, kernels, etc.
            if config.backend == "unsloth":
                raise
            reason = f"Unsloth could not load the model ({type(exc).__name__}: {str(exc).splitlines()[0]})"
        model, tokenizer = load_transformers(config, precision)
        return model, tokenizer, "transformers", reason
    model, tokenizer = load_transformers(config, precision)
    return model, tokenizer, "transformers", None


def add_lora(config: TrainConfig, backend: str, model: Any, max_length: int) -> Any:
    if backend == "unsloth":
        model = add_lora_unsloth(config, model, max_length)
    else:
        model = add_lora_transformers(config, model)
    return load_init_adapter(config, model)


def with_init_adapter_shape(config: TrainConfig) -> TrainConfig:
    """`config` with `init_adapter`'s LoRA shape (r, alpha, target modules): the new LoRA
    must have the adapter's tensors to take its weights. Unchanged without one."""
    if config.init_adapter is None:
        return config
    path = Path(config.init_adapter) / "adapter_config.json"
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"train.init_adapter: cannot read {path} ({exc})") from None
    targets = saved.get("target_modules")
    if isinstance(targets, str) or not targets or not isinstance(saved.get("r"), int):
        raise InputError(f"{path}: expected an integer 'r' and a list of 'target_modules'")
    return config.model_copy(
        update={
            "lora_r": saved["r"],
            "lora_alpha": saved.get("lora_alpha") or saved["r"],
            "target_modules": sorted(targets),
        }
    )


def load_init_adapter(config: TrainConfig, model: Any) -> Any:
    """Copy `init_adapter`'s weights into the fresh LoRA of `model` (a PEFT model whose shape
    came from `with_init_adapter_shape`); they stay trainable. Every tensor must land."""
    if config.init_adapter is None:
        return model
    from peft.utils import load_peft_weights, set_peft_model_state_dict

    weights = load_peft_weights(str(config.init_adapter), device="cpu")
    result = set_peft_model_state_dict(model, weights, adapter_name="default")
    unexpected = [k for k in result.unexpected_keys if "lora_" in k]
    if unexpected:
        raise InputError(
            f"train.init_adapter {config.init_adapter}: {len(unexpected)} tensor(s) match no "
            f"LoRA module of {config.model}, e.g. {unexpected[0]} (another base model?)"
        )
    return model
