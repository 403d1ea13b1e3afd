"""What goes into the sandbox and what comes out. Plain data, no process handling here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# Every execution ends in exactly one of these.
STATUSES = (
    "ok",  # returned a value
    "error",  # raised; `error` holds "Type: message"
    "timeout",  # CPU limit, or the wall-clock backstop (sleep, blocking)
    "memory",  # MemoryError or the address-space limit
    "recursion",  # RecursionError
    "crashed",  # killed by a signal (segfault, abort)
    "no_result",  # exited without reporting (os._exit, sys.exit inside C code)
    "output_too_large",  # result or stdout over its cap
    "blocked",  # a denied system call (fork, exec, socket, kill, ...)
)
Status = Literal[
    "ok",
    "error",
    "timeout",
    "memory",
    "recursion",
    "crashed",
    "no_result",
    "output_too_large",
    "blocked",
]


@dataclass(frozen=True)
class Job:
    """One execution.

    Call mode (default): exec `code`, then call `entry` with `input`.
      `input` is a dict {"args": [...], "kwargs": {...}} of JSON values, or a string of
      Python call arguments as written inside `f(...)` (CRUXEval convention), or None
      for a zero-argument call.
    Expression mode (`expr` set): exec `code`, then evaluate `expr` (e.g. CRUXEval's
      `assert`-style `output == f(3)`) and return its value. `entry` names the function
      a call-only check may restrict to; it may be empty.
    `seed` seeds `random` (and numpy) in the child before the call.
    """

    id: str
    code: str
    entry: str = ""
    input: dict[str, Any] | str | None = None
    expr: str | None = None
    seed: int = 0
    timeout: float | None = None  # seconds of CPU; None: the sandbox default

    def to_wire(self) -> dict[str, Any]:
        # Shallow on purpose: it is serialised at once, and `asdict` would deep-copy every
        # input value first (a third of the host's time per job on list inputs).
        return {
            "id": self.id,
            "code": self.code,
            "entry": self.entry,
            "input": self.input,
            "expr": self.expr,
            "seed": self.seed,
            "timeout": self.timeout,
        }


@dataclass
class Result:
    """The outcome of one Job. `output` is JSON when the conversion is lossless, else None."""

    id: str
    status: Status
    output: Any = None
    output_repr: str | None = None
    output_is_json: bool = False
    input_repr: str | None = None  # the call arguments as given, before the call ran
    error: str | None = None  # "ValueError: bad thing", or why the sandbox stopped it
    error_type: str | None = None
    stdout: str = ""
    stdout_truncated: bool = False
    seconds: float = 0.0  # wall seconds inside the child
    signal: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_row(self) -> dict[str, Any]:
        """The JSONL row of `kodeio sandbox run`."""
        return {
            "id": self.id,
            "status": self.status,
            "output": self.output,
            "output_repr": self.output_repr,
            "input_repr": self.input_repr,
            "error": self.error,
            "stdout": self.stdout,
            "seconds": round(self.seconds, 6),
        }
