"""The seed types of the I/O stage: `Seed` (a function to turn into pairs) and `RawCode`.

They sit apart from the readers (`kodeio.synth.io.seeds`) so that the `.py` discovery the
readers call (`kodeio.synth.io.discover`) can build seeds without importing the readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ValuePolicy = Literal["json", "python"]
SeedInput = dict[str, Any] | str  # {"args": [...], "kwargs": {...}} or call-args source


@dataclass(frozen=True)
class Seed:
    """One function to turn into (input, output) pairs."""

    id: str
    code: str
    entry: str
    format: ValuePolicy
    inputs: tuple[SeedInput, ...] = ()
    input_generator: str | None = None
    problem_description: str | None = None
    io_requirements: str | None = None
    category: str | None = None
    origin: str = "kodeio"  # the reader that produced it: codeio, cruxeval, kodeio, py, hf, unify
    source: str = ""  # "path:line" (or "dataset:row") for messages and rejects
    # The outputs the source recorded for `inputs` (CodeI/O `ios[].output`, CRUXEval `output`):
    # ("json", value) or ("repr", python literal text). Compared with the executed output.
    reference_outputs: tuple[tuple[str, Any] | None, ...] = ()
    # Set by readers when the seed cannot run at all (e.g. a syntax error); becomes a reject.
    problem: str | None = None
    problem_detail: str | None = None

    @property
    def descriptions(self) -> dict[str, str | None]:
        return {
            "problem_description": self.problem_description,
            "io_requirements": self.io_requirements,
            "category": self.category,
        }


@dataclass(frozen=True)
class RawCode:
    """Code with no known entry, inputs or description: what a `Unifier` rewrites into seeds."""

    id: str
    code: str
    source: str
    functions: tuple[str, ...] = field(default=())  # callable candidates `ast` found
