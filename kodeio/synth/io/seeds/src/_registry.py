"""Decorators that mark seed functions and their input generators (no-ops at call time)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

F = Callable[..., Any]


@dataclass
class SeedSpec:
    function: F
    description: str
    generator: F | None = None
    module: str = field(default="")


# Every seed in definition order, per module name.
REGISTRY: dict[str, list[SeedSpec]] = {}


def seed(description: str) -> Callable[[F], F]:
    """Mark `function` as a seed entry point described by one English paragraph."""

    def mark(function: F) -> F:
        spec = SeedSpec(function, " ".join(description.split()), module=function.__module__)
        REGISTRY.setdefault(function.__module__, []).append(spec)
        function.__kodeio_seed__ = spec  # type: ignore[attr-defined]
        return function

    return mark


def inputs_for(target: F) -> Callable[[F], F]:
    """Mark a zero-argument function as `target`'s input generator (uses `random`)."""

    def mark(generator: F) -> F:
        spec: SeedSpec = target.__kodeio_seed__  # type: ignore[attr-defined]
        if spec.generator is not None:
            raise ValueError(f"{target.__name__} already has an input generator")
        spec.generator = generator
        return generator

    return mark
