"""Model backends behind one interface: `vllm`, `openai`, `transformers` (and `scripted`).

Shared by every stage that generates (synthesis, unify, eval); it imports none of them.
A stage turns its config into an `EngineConfig` and asks `make_backend` for the engine.
"""

from __future__ import annotations

from kodeio.errors import ConfigError
from kodeio.llm.base import (
    Backend,
    BackendError,
    BusyMeter,
    Completion,
    GenRequest,
    GenResult,
)
from kodeio.llm.config import EngineConfig

__all__ = [
    "Backend",
    "BackendError",
    "BusyMeter",
    "Completion",
    "EngineConfig",
    "GenRequest",
    "GenResult",
    "make_backend",
]


def make_backend(config: EngineConfig) -> Backend:
    """The backend named in the config (imports the heavy engine only when chosen)."""
    if config.backend == "vllm":
        from kodeio.llm.vllm_backend import VllmBackend

        return VllmBackend(config.model, config.vllm, config.seed, config.think_prefix)
    if config.backend == "openai":
        from kodeio.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(config.model, config.openai, config.concurrency, config.think_prefix)
    if config.backend == "transformers":
        from kodeio.llm.transformers_backend import TransformersBackend

        return TransformersBackend(config.model, config.transformers, config.think_prefix)
    if config.backend == "scripted":
        from kodeio.llm.scripted import ScriptedBackend

        if config.script is None:
            raise ConfigError("backend 'scripted' needs key 'script' (a JSON script file)")
        return ScriptedBackend.from_file(config.script)
    raise ConfigError(f"key 'backend': unknown backend {config.backend!r}")
