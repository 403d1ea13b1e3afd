"""Model backends behind one interface: `vllm`, `openai`, `transformers` (and `scripted`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kodeio.errors import ConfigError
from kodeio.synth.backends.base import (
    Backend,
    BackendError,
    BusyMeter,
    Completion,
    GenRequest,
    GenResult,
)
from kodeio.synth.config import SynthConfig

if TYPE_CHECKING:
    from kodeio.synth.unify import UnifyConfig

__all__ = [
    "Backend",
    "BackendError",
    "BusyMeter",
    "Completion",
    "GenRequest",
    "GenResult",
    "make_backend",
]


def make_backend(config: SynthConfig | UnifyConfig) -> Backend:
    """The backend named in the config (imports the heavy engine only when chosen)."""
    if config.backend == "vllm":
        from kodeio.synth.backends.vllm_backend import VllmBackend

        return VllmBackend(config.model, config.vllm, config.sampling.seed, config.think_prefix)
    if config.backend == "openai":
        from kodeio.synth.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(config.model, config.openai, config.concurrency, config.think_prefix)
    if config.backend == "transformers":
        from kodeio.synth.backends.transformers_backend import TransformersBackend

        return TransformersBackend(config.model, config.transformers, config.think_prefix)
    if config.backend == "scripted":
        from kodeio.synth.backends.scripted import ScriptedBackend

        if config.script is None:
            raise ConfigError("backend 'scripted' needs key 'script' (a JSON script file)")
        return ScriptedBackend.from_file(config.script)
    raise ConfigError(f"key 'backend': unknown backend {config.backend!r}")
