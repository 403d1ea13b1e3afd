"""Synthesis scale-out settings: how requests spread over `vllm serve` replicas, and the
vLLM parallelism keys that reach `vllm.LLM(...)`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kodeio.llm.config import OpenAIConfig, VllmConfig
from kodeio.llm.openai_backend import OpenAIBackend
from kodeio.llm.vllm_backend import engine_kwargs

URLS = ["http://a:8000/v1", "http://b:8000/v1", "http://c:8000/v1"]


def _backend(balance: str) -> OpenAIBackend:
    return OpenAIBackend("m", OpenAIConfig(base_urls=URLS, balance=balance))


def test_round_robin_takes_replicas_in_turn() -> None:
    backend = _backend("round_robin")
    try:
        backend._in_flight = {URLS[0]: 9}  # load is ignored in round-robin
        assert [backend._next_url() for _ in range(4)] == [*URLS, URLS[0]]
    finally:
        backend.close()


def test_least_loaded_prefers_the_idlest_replica_and_rotates_ties() -> None:
    backend = _backend("least_loaded")
    try:
        backend._in_flight = {URLS[0]: 3, URLS[1]: 1, URLS[2]: 1}
        # b and c tie: the turn decides, so both get work rather than always b.
        assert [backend._next_url() for _ in range(3)] == [URLS[1], URLS[1], URLS[2]]
        backend._in_flight = {URLS[0]: 0, URLS[1]: 5, URLS[2]: 5}
        assert backend._next_url() == URLS[0]
    finally:
        backend.close()


def test_vllm_parallelism_reaches_the_engine() -> None:
    cfg = VllmConfig(tensor_parallel_size=4, pipeline_parallel_size=2)
    kwargs = engine_kwargs("m", cfg, seed=0, on_gpu=True)
    assert (kwargs["tensor_parallel_size"], kwargs["pipeline_parallel_size"]) == (4, 2)
    with pytest.raises(ValidationError, match="vllm serve --data-parallel-size 2"):
        VllmConfig(data_parallel_size=2)
