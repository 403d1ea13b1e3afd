"""Size filters for (input, output) pairs, with defaults close to CodeI/O's.

CodeI/O keeps a pair only if its input and output are each under about 1 KB, no container
has more than 20 items, no string is longer than 100 characters, and the output is not
None: small values are what a model can reason about step by step.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kodeio.config import StageConfig


class FilterConfig(StageConfig):
    max_input_repr: int = Field(1024, ge=1, description="longest input_repr, in characters")
    max_output_repr: int = Field(1024, ge=1, description="longest output_repr, in characters")
    max_container_items: int = Field(20, ge=0, description="most items in any list/tuple/set/dict")
    max_string_chars: int = Field(100, ge=0, description="longest str or bytes anywhere in a value")
    allow_none_output: bool = Field(False, description="keep pairs whose output is None")


def oversize(value: Any, config: FilterConfig, _depth: int = 0) -> tuple[str, str] | None:
    """(reason, detail) for the first container or string over its limit, else None."""
    if _depth > 100:
        return "container_too_large", "nested more than 100 levels"
    if isinstance(value, str | bytes):
        if len(value) > config.max_string_chars:
            return (
                "string_too_long",
                f"a string of {len(value)} chars (limit {config.max_string_chars})",
            )
        return None
    if isinstance(value, list | tuple | set | frozenset | dict):
        if len(value) > config.max_container_items:
            kind = type(value).__name__
            return (
                "container_too_large",
                f"a {kind} of {len(value)} items (limit {config.max_container_items})",
            )
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        for item in items:
            found = oversize(item, config, _depth + 1)
            if found:
                return found
    return None


def check_pair(
    args: list[Any],
    kwargs: dict[str, Any],
    input_repr: str,
    output: Any,
    output_repr: str,
    config: FilterConfig,
) -> tuple[str, str] | None:
    """(reason, detail) when the pair fails a filter, else None."""
    if len(input_repr) > config.max_input_repr:
        return (
            "input_too_long",
            f"input_repr is {len(input_repr)} chars (limit {config.max_input_repr})",
        )
    if len(output_repr) > config.max_output_repr:
        return (
            "output_too_long",
            f"output_repr is {len(output_repr)} chars (limit {config.max_output_repr})",
        )
    if output is None and not config.allow_none_output:
        return "none_output", "the function returned None"
    for value in [*args, *kwargs.values()]:
        found = oversize(value, config)
        if found:
            return found[0], "input has " + found[1]
    found = oversize(output, config)
    if found:
        return found[0], "output has " + found[1]
    return None
