"""What every model backend takes and gives back.

A backend turns `GenRequest`s (a chat conversation plus sampling settings) into
completions. The pipeline never knows which engine is behind it: the in-process vLLM
engine, an OpenAI-compatible server, or plain transformers `generate`.

Completions are the text the model wrote *after* the generation prompt. With R1's
template the prompt ends in `<think>\n`, so a completion is "reasoning </think> answer".
"""

from __future__ import annotations

import abc
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from kodeio.errors import KodeioError

THINK_OPEN = "<think>"
THINK_PREFIX = "<think>\n"


class BackendError(KodeioError):
    """The model backend failed for good (after retries); finished work is kept."""


@dataclass(frozen=True)
class GenRequest:
    """One prompt to complete `n` times. `key` is its content hash (the resume key)."""

    key: str
    messages: tuple[dict[str, str], ...]
    n: int
    max_tokens: int
    temperature: float
    top_p: float
    seed: int
    # A LoRA adapter directory for this request alone (backends that serve several from one
    # engine: vllm); None: the backend's own setting; NO_ADAPTER: the bare base model.
    adapter: str | None = None


NO_ADAPTER = ""


@dataclass
class Completion:
    text: str
    finish_reason: str  # "stop" | "length" | whatever the engine reported
    completion_tokens: int

    def to_row(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "completion_tokens": self.completion_tokens,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Completion:
        return cls(row["text"], row["finish_reason"], int(row["completion_tokens"]))


@dataclass
class GenResult:
    request: GenRequest
    completions: list[Completion]
    prompt_tokens: int = 0


@dataclass
class BusyMeter:
    """Wall seconds the engine spent inside `generate` (for the busy-share benchmark)."""

    busy_seconds: float = 0.0
    calls: int = 0
    _started: float | None = field(default=None, repr=False)

    def __enter__(self) -> BusyMeter:
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started is not None:
            self.busy_seconds += time.perf_counter() - self._started
            self.calls += 1
            self._started = None


class Backend(abc.ABC):
    """A model that completes chat prompts. Use as a context manager."""

    name: str = "backend"

    def __init__(self) -> None:
        self.meter = BusyMeter()

    @abc.abstractmethod
    def generate(self, requests: Sequence[GenRequest]) -> Iterator[GenResult]:
        """Complete every request; results may come in any order, one per request."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine (processes, sockets)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_with_template(
    tokenizer: Any, messages: Sequence[dict[str, str]], think_prefix: bool
) -> str:
    """The prompt text the model sees: its own chat template plus the generation prompt.

    R1's template already ends the generation prompt in `<think>\\n`; for other templates
    it is appended when `think_prefix` is set, so every reasoning trace starts the same.
    """
    text = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    if think_prefix and not text.rstrip(" ").endswith(THINK_OPEN + "\n"):
        if text.endswith(THINK_OPEN):
            text += "\n"
        else:
            text += THINK_PREFIX
    return text
