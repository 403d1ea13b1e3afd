"""Serving with vLLM (synthesis teacher, evaluation): weights, KV cache, sequences, tokens/s.

vLLM's startup on a GPU: it loads the weights, profiles one forward pass, and gives the rest
of `gpu_memory_utilization` x the card's memory to the KV cache, in blocks of 16 tokens. It
refuses to start when one `max_model_len` sequence does not fit, and preempts (drops and
recomputes) sequences when more are running than the cache holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from kodeio.llm.config import VllmConfig
from kodeio.plan.arithmetic import (
    GIB,
    SAME_FORMAT,
    Figure,
    decode_ceiling,
    kv_bytes_per_token,
    lora_params,
    weight_bytes,
    weight_format,
)
from kodeio.plan.config import PlanConfig
from kodeio.plan.engine import Engine
from kodeio.plan.hardware import Gpu
from kodeio.plan.model_config import ModelShape
from kodeio.plan.report import StageReport

BLOCK = 16  # vLLM's KV cache block, in tokens


@dataclass(frozen=True)
class Workload:
    """What a serving stage asks for: requests, their completion cap, and what they are."""

    requests: float
    max_tokens: int
    what: str


def vllm_default_max_num_seqs(gpu: Gpu) -> int:
    # vllm/engine/arg_utils.py (0.32), the offline LLM class: 1024 on cards with >= 70 GiB
    # that are not A100s, else 256.
    big = gpu.memory_bytes >= 70 * GIB and "a100" not in gpu.name.lower()
    return 1024 if big else 256


def check_engine(rep: StageReport, shape: ModelShape, vllm: VllmConfig, engine: Engine | None,
                 this_machine: bool) -> str | None:  # fmt: skip
    """The quantization vLLM will use, with a problem if the installed vLLM cannot load it."""
    stage, method = rep.stage, vllm.quantization or shape.quant_method
    if engine is None:
        line = f"{stage}: vLLM is not installed here; pip install 'kodeio[gpu]'"
        (rep.problems if this_machine else rep.notes).append(line)
    elif engine.quantization_methods is None:
        rep.notes.append(f"{engine.label}: its quantization list could not be read; not checked")
    elif method and method not in engine.quantization_methods:
        origin = "vllm.quantization" if vllm.quantization else f"{shape.name}'s config.json"
        rep.problems.append(
            f"{stage}: {engine.label} has no quantization method '{method}' (from {origin}); "
            "serve an AWQ or GPTQ 4-bit checkpoint (quantization: awq_marlin or gptq_marlin) "
            "or FP8 (quantization: fp8)"
        )
    if vllm.quantization and shape.quant_method:
        asked = SAME_FORMAT.get(vllm.quantization, vllm.quantization)
        stored = SAME_FORMAT.get(shape.quant_method, shape.quant_method)
        if asked != stored:
            rep.problems.append(
                f"{stage}: vllm.quantization '{vllm.quantization}' does not match the "
                f"checkpoint's '{shape.quant_method}' ({shape.name}); set "
                f"quantization: {shape.quant_method} or leave the key out"
            )
    return method


def plan_serving(
    rep: StageReport,
    shape: ModelShape,
    vllm: VllmConfig,
    work: Workload,
    gpu: Gpu,
    cfg: PlanConfig,
    engine: Engine | None,
    lora_rank: int | None = None,
) -> None:
    stage = rep.stage
    method = check_engine(rep, shape, vllm, engine, cfg.this_machine)
    fmt = weight_format(method, shape, vllm.dtype)
    weights = rep.add(weight_bytes(shape, fmt))
    lora_gib = 0.0
    if lora_rank:
        n = lora_params(shape, lora_rank)
        lora = rep.add(Figure(f"LoRA slot (max_lora_rank={lora_rank})", n * 2 / GIB, "GiB",
                              f"{n:,} params at rank {lora_rank} on all projections x 2 B"))  # fmt: skip
        lora_gib = lora.value
    kv_b = 1 if vllm.kv_cache_dtype.startswith("fp8") else (4 if vllm.dtype == "float32" else 2)
    kv = rep.add(kv_bytes_per_token(shape, kv_b))
    util = vllm.gpu_memory_utilization or 0.9
    room = gpu.memory_gib * util - weights.value - lora_gib - cfg.overhead_gb
    rep.add(Figure("KV cache space", room, "GiB",
                   f"{gpu.memory_gib:.2f} GiB x gpu_memory_utilization {util:g} - "
                   f"{weights.value:.2f} weights" + (f" - {lora_gib:.2f} LoRA" if lora_gib else "")
                   + f" - {cfg.overhead_gb:g} overhead (stated)"))  # fmt: skip
    max_len = vllm.max_model_len or shape.max_positions
    if room <= 0:
        need = weights.value + lora_gib + cfg.overhead_gb + max_len * kv.value / GIB
        closest = (
            f"gpu_memory_utilization {need / gpu.memory_gib:.2f}"
            if need / gpu.memory_gib <= 0.98
            else "a 4-bit AWQ/GPTQ checkpoint"
            if fmt not in ("int4", "nf4")
            else "a GPU with more memory"
        )
        rep.problems.append(
            f"{stage}: the weights ({weights.value:.2f} GiB) and {cfg.overhead_gb:g} GiB overhead "
            f"leave no KV cache in {util:g} x {gpu.memory_gib:.2f} GiB; closest that fits: {closest}"
        )
        return
    tokens = int(room * GIB // kv.value) // BLOCK * BLOCK
    rep.add(Figure("KV cache tokens", tokens, "tokens",
                   f"{room:.2f} GiB / {int(kv.value):,} B, in blocks of {BLOCK}"))  # fmt: skip
    full = tokens // max_len
    rep.add(Figure(f"full-length sequences at once (max_model_len {max_len:,})", full,
                   "sequences", f"{tokens:,} // {max_len:,}"))  # fmt: skip
    if full < 1:
        hint = "" if kv_b == 1 else " (or kv_cache_dtype: fp8, which halves the cache per token)"
        rep.problems.append(
            f"{stage}: the KV cache holds {tokens:,} tokens, less than one max_model_len="
            f"{max_len:,} sequence, so vLLM will not start; largest max_model_len that fits: "
            f"{tokens:,}{hint}"
        )
        return
    completion = cfg.mean_fraction * min(work.max_tokens, max_len)
    mean_seq = min(max_len, cfg.prompt_tokens + completion)
    fit_at_mean = int(tokens // mean_seq)
    seqs = vllm.max_num_seqs or vllm_default_max_num_seqs(gpu)
    default = "" if vllm.max_num_seqs else " (vLLM's default)"
    rep.add(Figure("sequences of mean length at once", fit_at_mean, "sequences",
                   f"{tokens:,} // ({cfg.prompt_tokens:,} prompt + {cfg.mean_fraction:g} x "
                   f"{min(work.max_tokens, max_len):,} max_tokens)"))  # fmt: skip
    if seqs > fit_at_mean:
        rep.problems.append(
            f"{stage}: max_num_seqs={seqs}{default} sequences of ~{mean_seq:,.0f} tokens need "
            f"{seqs * mean_seq * kv.value / GIB:.1f} GiB of KV cache, there are {room:.2f} GiB "
            f"(vLLM would preempt and recompute); largest max_num_seqs that fits: {fit_at_mean}"
        )
    if not vllm.enable_prefix_caching:
        rep.notes.append("enable_prefix_caching is not on: revision turns re-read their prefix")
    if gpu.bandwidth_gbs <= 0:
        rep.notes.append(f"{gpu.name}: bandwidth unknown (give --gpu), so no tokens/s or hours")
        return
    batch = max(1, min(seqs, fit_at_mean))
    context = cfg.prompt_tokens + completion / 2  # the mean context over a sequence's decode
    w_bytes = weights.value * GIB + lora_gib * GIB
    args = (gpu.bandwidth_gbs, gpu.bf16_tflops, shape.total_params)
    rep.add(decode_ceiling(w_bytes, int(kv.value), 1, context, *args))
    ceiling = rep.add(decode_ceiling(w_bytes, int(kv.value), batch, context, *args))
    total = work.requests * completion
    rep.add(Figure("tokens to generate", total, "tokens",
                   f"{work.what} x {cfg.mean_fraction:g} x {min(work.max_tokens, max_len):,} "
                   f"max_tokens (assumed mean completion)"))  # fmt: skip
    rep.add(Figure("hours, at least", total / ceiling.value / 3600, "h",
                   f"{total:,.0f} tokens / {ceiling.value:,.0f} tokens/s ceiling; prefill and "
                   "verification not counted"))  # fmt: skip
