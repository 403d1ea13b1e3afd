"""The hook for CodeI/O's "unify" step: an LLM rewrites raw code into a runnable seed.

CodeI/O turns each raw code file into `main_solution` (JSON in, JSON out), a zero-argument
`input_generator()` returning the kwargs, and a problem description. That needs a model, so
it lives in the synthesis area (`kodeio/synth/unify.py`); this stage only defines the shape
it plugs into. Given a unifier, `.py` files and raw-code dataset rows are passed to it as
`RawCode` in batches (so it can batch its LLM calls) instead of being searched with `ast`.

A unifier returns one item per input, in order: a `Seed` (use `unified_seed` to build one
with the conventions below) or None when the code is not worth a seed; None becomes a
reject with reason `unify_declined`, so nothing disappears silently.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from kodeio.errors import ConfigError
from kodeio.synth.io.seeds import RawCode, Seed


@runtime_checkable
class Unifier(Protocol):
    def unify(self, raw: Sequence[RawCode]) -> list[Seed | None]:
        """One `Seed` (or None) per `RawCode`, same order."""
        ...


def unified_seed(
    raw: RawCode,
    code: str,
    input_generator: str | None,
    problem_description: str | None = None,
    io_requirements: str | None = None,
    category: str | None = None,
    entry: str = "main_solution",
) -> Seed:
    """A seed in CodeI/O's unified shape: JSON value policy, inputs from the generator."""
    from kodeio.synth.io.seeds import with_code_checks

    seed = Seed(
        id=raw.id,
        code=code,
        entry=entry,
        format="json",
        input_generator=input_generator,
        problem_description=problem_description,
        io_requirements=io_requirements,
        category=category,
        origin="unify",
        source=raw.source,
    )
    return with_code_checks(seed)


def load_unifier(spec: str) -> Unifier:
    """`module:attr`, where attr is a Unifier instance or a zero-argument factory of one."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(
            f"unifier {spec!r}: expected 'module:attribute', e.g. 'kodeio.synth.unify:make_unifier'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"unifier {spec!r}: cannot import {module_name} ({exc})") from None
    target = getattr(module, attr, None)
    if target is None:
        raise ConfigError(f"unifier {spec!r}: {module_name} has no attribute {attr!r}")
    # A class also "has" a unify attribute, so call classes and factories; use instances as is.
    is_instance = isinstance(target, Unifier) and not isinstance(target, type)
    unifier = target if is_instance else target()
    if not isinstance(unifier, Unifier):
        raise ConfigError(f"unifier {spec!r}: {attr} is not a Unifier (needs a unify(raw) method)")
    return unifier
