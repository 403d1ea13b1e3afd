"""The plan's formulas. Each returns a `Figure`: the number and the arithmetic behind it.

Memory is in GiB (2^30 bytes, as vLLM and nvidia-smi count), disk in GB (10^9 bytes, as file
sizes on the Hub are shown). docs/gpu.md derives each formula and says what it leaves out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from kodeio.plan.model_config import PROJECTIONS, ModelShape

GIB = 1024**3
GB = 10**9

# vLLM methods by how they store the linear layers' weights.
INT4_METHODS = {"awq", "awq_marlin", "auto_awq", "gptq", "gptq_marlin", "auto_gptq", "moe_wna16"}
FP8_METHODS = {"fp8", "fbgemm_fp8", "fp8_per_tensor", "fp8_per_block", "fp8_per_channel"}
NF4_METHODS = {"bitsandbytes"}
# Methods that name the same checkpoint format (vLLM picks the Marlin kernel itself).
SAME_FORMAT = {"awq_marlin": "awq", "auto_awq": "awq", "gptq_marlin": "gptq", "auto_gptq": "gptq"}

# GGUF bits per weight. Block formats are exact (q8_0: 34 bytes per 32 weights; q6_k: 210
# bytes per 256); the k-quant mixes (_s/_m/_l) vary by model and are the published
# Qwen2.5-32B GGUF file sizes x 8 / 32.76e9 parameters.
GGUF_BITS = {
    "f32": 32.0,
    "f16": 16.0,
    "bf16": 16.0,
    "q8_0": 8.5,
    "q6_k": 6.5625,
    "q5_1": 6.0,
    "q5_0": 5.5,
    "q4_1": 5.0,
    "q4_0": 4.5,
    "iq4_nl": 4.5,
    "iq4_xs": 4.25,
    "q5_k_m": 5.68,
    "q5_k_s": 5.53,
    "q4_k_m": 4.85,
    "q4_k_s": 4.59,
    "q3_k_l": 4.21,
    "q3_k_m": 3.89,
    "q3_k_s": 3.51,
    "q2_k": 3.01,
}


@dataclass(frozen=True)
class Figure:
    label: str
    value: float
    unit: str
    how: str

    def text(self) -> str:
        return f"{self.label}: {fmt(self.value, self.unit)}  [{self.how}]"


def fmt(value: float, unit: str) -> str:
    if unit in ("GiB", "GB"):
        return f"{value:,.2f} {unit}"
    if unit in ("tokens", "sequences", "params", "bytes"):
        return f"{int(value):,} {unit}"
    if unit == "h":
        return f"{value:,.1f} h"
    return f"{value:,.1f} {unit}"


def gib(n: float) -> float:
    return n / GIB


# ---------------------------------------------------------------- weights


def weight_format(method: str | None, shape: ModelShape, dtype: str = "auto") -> str:
    """'int4', 'fp8', 'nf4', or the 16/32-bit dtype the weights are held in."""
    if method in INT4_METHODS:
        return "int4"
    if method in FP8_METHODS:
        return "fp8"
    if method in NF4_METHODS:
        return "nf4"
    if method == "compressed-tensors":
        bits = re.findall(r'"num_bits": (\d+)', json.dumps(shape.quant))
        return "int4" if bits and int(bits[0]) == 4 else "fp8"
    if dtype in ("float32", "bfloat16", "float16"):
        return dtype
    return shape.dtype if shape.dtype in ("float32", "bfloat16", "float16") else "bfloat16"


def nf4_skipped(shape: ModelShape) -> int:
    """Linear parameters bitsandbytes leaves in 16-bit (`llm_int8_skip_modules`, e.g. Unsloth's
    dynamic 4-bit checkpoints): entries `...layers.N.<block>.<proj>` or a bare projection name."""
    shapes = shape.projection_shapes()
    skipped: set[tuple[int, str]] = set()
    for entry in shape.quant.get("llm_int8_skip_modules") or []:
        found = re.search(r"layers\.(\d+)\.\w+\.(\w+_proj)$", str(entry))
        if found and found.group(2) in shapes:
            skipped.add((int(found.group(1)), found.group(2)))
        elif str(entry) in PROJECTIONS:
            skipped.update((layer, str(entry)) for layer in range(shape.layers))
    return sum(shapes[proj][0] * shapes[proj][1] for _, proj in skipped)


def weight_bytes(shape: ModelShape, fmt_: str) -> Figure:
    p = shape
    rest = p.embedding_params + p.other_params
    emb = "embeddings + LM head" if not p.tied else "tied embeddings"
    if fmt_ in ("bfloat16", "float16", "float32"):
        b = 4 if fmt_ == "float32" else 2
        return Figure(
            f"weights ({fmt_})",
            gib(p.total_params * b),
            "GiB",
            f"{p.total_params:,} params x {b} B",
        )
    if fmt_ == "fp8":
        total = p.linear_params * 1 + rest * 2
        how = f"{p.linear_params:,} linear params x 1 B + {rest:,} ({emb}, norms, biases) x 2 B"
        return Figure("weights (fp8)", gib(total), "GiB", how)
    if fmt_ == "int4":
        g = int(p.quant.get("group_size") or p.quant.get("q_group_size") or 128)
        per = 0.5 + 2.5 / g
        total = p.linear_params * per + rest * 2
        how = (
            f"{p.linear_params:,} linear params x (0.5 B + 2.5 B per group of {g}: a 16-bit scale "
            f"and a 4-bit zero) + {rest:,} ({emb}, norms, biases) x 2 B"
        )
        return Figure("weights (4-bit, AWQ/GPTQ)", gib(total), "GiB", how)
    if fmt_ == "nf4":
        double = bool(p.quant.get("bnb_4bit_use_double_quant", True))
        per = 0.5 + (1 / 64 + 4 / (64 * 256) if double else 4 / 64)
        skipped = nf4_skipped(p)
        quantized = p.linear_params - skipped
        total = quantized * per + (skipped + rest) * 2
        how = (
            f"{quantized:,} linear params x {per:.4f} B (NF4 0.5 B + "
            + ("8-bit absmax per 64, fp32 per 256 blocks" if double else "fp32 absmax per 64")
            + f") + {skipped + rest:,} (16-bit: {emb}, norms, biases"
            + (f", {skipped:,} skipped linear" if skipped else "")
            + ") x 2 B"
        )
        return Figure("weights (NF4, bitsandbytes)", gib(total), "GiB", how)
    raise ValueError(f"unknown weight format {fmt_!r}")


# ---------------------------------------------------------------- KV cache and decoding


def kv_bytes_per_token(shape: ModelShape, kv_bytes: int) -> Figure:
    n = 2 * shape.layers * shape.kv_heads * shape.head_dim * kv_bytes
    how = (
        f"2 (K,V) x {shape.layers} layers x {shape.kv_heads} KV heads x {shape.head_dim} "
        f"head_dim x {kv_bytes} B"
    )
    return Figure("KV cache per token", n, "bytes", how)


def lora_params(shape: ModelShape, rank: int, targets: list[str] | None = None) -> int:
    shapes = shape.projection_shapes()
    names = [t for t in (targets or list(PROJECTIONS)) if t in shapes]
    return shape.layers * rank * sum(shapes[t][0] + shapes[t][1] for t in names)


def decode_ceiling(
    weights_bytes: float,
    kv_per_token: int,
    batch: int,
    context: float,
    bandwidth_gbs: float,
    tflops: float,
    params: int,
) -> Figure:
    """Tokens/s when every decode step reads all weights once plus each sequence's KV cache,
    capped by the compute a step needs (2 FLOPs per parameter per token)."""
    step_bytes = weights_bytes + batch * context * kv_per_token
    memory_bound = batch * bandwidth_gbs * 1e9 / step_bytes
    compute_bound = tflops * 1e12 / (2 * params)
    value = min(memory_bound, compute_bound)
    how = (
        f"{batch} seqs x {bandwidth_gbs:g} GB/s / ({weights_bytes / GB:.2f} GB weights + {batch} "
        f"x {context:,.0f} tokens x {kv_per_token:,} B KV) = {memory_bound:,.0f}; compute cap "
        f"{tflops:g} TFLOPS / (2 x {params / 1e9:.2f}B params) = {compute_bound:,.0f}"
    )
    return Figure(f"decode ceiling at {batch} sequence(s)", value, "tokens/s", how)


# ---------------------------------------------------------------- training


OPTIMIZER_STATE_BYTES = {"adamw_8bit": 2, "paged_adamw_8bit": 2, "adamw_bnb_8bit": 2}


def activation_bytes_per_token(shape: ModelShape) -> int:
    """One decoder layer's tensors kept for its backward pass (bf16, flash attention: no
    seq x seq term): q/k/v/o and norm outputs, the MLP's gate/up/activation/down inputs."""
    q = shape.heads * shape.head_dim
    kv = shape.kv_heads * shape.head_dim
    return 2 * (4 * shape.hidden + q + 2 * kv + 3 * shape.intermediate)
