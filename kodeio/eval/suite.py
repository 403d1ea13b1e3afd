"""`kodeio eval all`: every eval a recipe configures, for one model, with one engine.

The recipe's `eval:` section names the model (shared keys) and the evals to run
(`eval.io`, `eval.translate`, `eval.mcqa`, each optional). The engine is started once, on
the first request that is not already answered, and shared by the evals; each eval
writes `OUTPUT_DIR/<kind>/report.json`. Run it for the base model and for the fine-tuned
one (`--adapter`, `--name`), then `kodeio eval compare` the two output directories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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
    from kodeio.eval.generate import make_eval_backend

    reports = []
    shared: dict[str, LazyBackend] = {}
    try:
        for kind, config in configs:
            engine = config.model_dump_json(include=set(ENGINE_KEYS))
            if engine not in shared:
                shared[engine] = LazyBackend(lambda c=config: make_eval_backend(c))
            reports.append(_runner(kind)(config, backend=shared[engine]))
    finally:
        for backend in shared.values():
            backend.close()
    return reports
