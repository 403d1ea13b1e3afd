"""Training memory and time: 4-bit (or 16-bit) weights, LoRA + optimizer, activations.

The activation figure is an approximation, stated as one: one decoder layer's tensors for
its backward pass per token (flash attention keeps no seq x seq matrix), the checkpointed
layer inputs (Unsloth's mode offloads them to CPU RAM), and the bf16 logits of one sequence.
"""

from __future__ import annotations

import importlib.util

from kodeio.plan.arithmetic import (
    GIB,
    OPTIMIZER_STATE_BYTES,
    Figure,
    activation_bytes_per_token,
    lora_params,
    weight_bytes,
)
from kodeio.plan.config import PlanConfig
from kodeio.plan.hardware import Gpu
from kodeio.plan.model_config import ModelShape
from kodeio.plan.report import StageReport
from kodeio.train.config import TrainConfig


def plan_training(
    rep: StageReport, shape: ModelShape, train: TrainConfig, rows: int | None, gpu: Gpu,
    cfg: PlanConfig,
) -> None:  # fmt: skip
    four_bit = train.load_in_4bit if train.load_in_4bit is not None else "bnb-4bit" in train.model
    if four_bit and cfg.this_machine and importlib.util.find_spec("bitsandbytes") is None:
        rep.problems.append("train: 4-bit training needs bitsandbytes; pip install 'kodeio[train]'")
    weights = rep.add(weight_bytes(shape, "nf4" if four_bit else "bfloat16"))
    n = lora_params(shape, train.lora_r, train.target_modules)
    optim = "adamw_8bit" if train.optim == "auto" else train.optim
    state = OPTIMIZER_STATE_BYTES.get(optim, 8)
    lora = rep.add(Figure(
        "LoRA params + grads + optimizer", n * (8 + state) / GIB, "GiB",
        f"{n:,} params (r={train.lora_r}) x (4 B fp32 weight + 4 B grad + {state} B {optim} "
        "states)"))  # fmt: skip
    s, b, h = train.max_seq_length, train.per_device_train_batch_size, shape.hidden
    layer = activation_bytes_per_token(shape)
    mode = train.gradient_checkpointing
    if mode == "unsloth":
        per_token = layer + 2 * h
        how = f"{layer:,} B (one layer recomputed) + {2 * h:,} B (its input)"
        rep.notes.append(
            f"checkpointed layer inputs in CPU RAM (Unsloth offload): "
            f"{shape.layers * b * s * 2 * h / GIB:.2f} GiB"
        )
    elif mode:
        per_token = layer + shape.layers * 2 * h
        how = f"{layer:,} B (one layer recomputed) + {shape.layers} x {2 * h:,} B (checkpoints)"
    else:
        per_token = shape.layers * layer
        how = f"{shape.layers} layers x {layer:,} B (no checkpointing)"
    per_token += 2 * shape.vocab  # bf16 logits; Unsloth's chunked loss never holds fp32 ones
    act = rep.add(Figure(
        f"activations at max_seq_length {s:,} (approximation)", b * s * per_token / GIB, "GiB",
        f"{b} x {s:,} tokens x ({how} + {2 * shape.vocab:,} B bf16 logits), "
        f"gradient_checkpointing={mode}"))  # fmt: skip
    fixed = weights.value + lora.value + cfg.overhead_gb
    total = rep.add(Figure("training peak", fixed + act.value, "GiB",
                           f"{weights.value:.2f} + {lora.value:.2f} + {act.value:.2f} + "
                           f"{cfg.overhead_gb:g} overhead (stated)"))  # fmt: skip
    if total.value > gpu.memory_gib:
        longest = int((gpu.memory_gib - fixed) * GIB // (b * per_token)) // 256 * 256
        closest = (
            f"largest max_seq_length that fits: {longest:,}"
            if longest >= 256
            else "no max_seq_length fits; a smaller model or a GPU with more memory"
        )
        rep.problems.append(
            f"train: {total.value:.2f} GiB needed (weights {weights.value:.2f}, LoRA+optimizer "
            f"{lora.value:.2f}, activations {act.value:.2f}, overhead {cfg.overhead_gb:g}) > "
            f"{gpu.memory_gib:.2f} GiB; {closest}"
        )
    if gpu.bf16_tflops <= 0:
        return
    if rows is None:
        rep.notes.append("data_mix.total is not set: no training hours")
        return
    tokens = rows * train.epochs * cfg.mean_fraction * s
    flops = 6 if mode else 4
    floor = tokens * flops * shape.total_params / (gpu.bf16_tflops * 1e12) / 3600
    rep.add(Figure("training tokens", tokens, "tokens",
                   f"{rows:,} rows x {train.epochs:g} epochs x {cfg.mean_fraction:g} x "
                   f"{s:,} max_seq_length (assumed mean row)"))  # fmt: skip
    rep.add(Figure("hours", floor / cfg.train_utilization, "h",
                   f"{tokens:,.0f} tokens x {flops} x {shape.total_params / 1e9:.2f}B params "
                   f"FLOPs / {gpu.bf16_tflops:g} TFLOPS = {floor:.1f} h at peak, / "
                   f"{cfg.train_utilization:g} assumed utilisation"))  # fmt: skip
