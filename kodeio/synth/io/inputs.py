"""Where a seed's inputs come from: given, generated in the sandbox, or drawn by hypothesis.

Every input is reduced to a canonical key, its call-argument source as
`kodeio.sandbox.values.format_call_args` spells it. Keys decide which inputs are distinct,
and (with the seed) the stable row id.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from kodeio.sandbox import Job, Result
from kodeio.sandbox.values import NotALiteral, format_call_args, parse_call_args, parse_literal
from kodeio.synth.io.seeds import Seed, SeedInput


def stable_int(*parts: object) -> int:
    """A 31-bit integer from the parts (RNG seeds that do not depend on PYTHONHASHSEED)."""
    digest = hashlib.sha256("\0".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def stable_id(*parts: object) -> str:
    return hashlib.sha256("\0".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class PlannedInput:
    key: str  # canonical call-args source
    job_input: dict[str, Any] | str  # what the Job carries
    source: str  # given | generator | hypothesis
    reference: tuple[str, Any] | None = None  # the seed's recorded output for this input


def canonical(given: SeedInput) -> tuple[str, dict[str, Any] | str]:
    """(key, job input). Call-args text that is not a literal stays as written; the worker
    evaluates it inside the sandbox (CRUXEval has a few such inputs)."""
    if isinstance(given, dict):
        args, kwargs = list(given.get("args") or []), dict(given.get("kwargs") or {})
        return format_call_args(args, kwargs), {"args": args, "kwargs": kwargs}
    try:
        args, kwargs = parse_call_args(given)
    except (NotALiteral, RecursionError, ValueError):
        text = given.strip()
        return text, text
    key = format_call_args(args, kwargs)
    return key, key


def given_inputs(seed: Seed, limit: int) -> list[PlannedInput]:
    """The seed's own inputs, distinct by key, in order, at most `limit`."""
    out: list[PlannedInput] = []
    seen: set[str] = set()
    for i, given in enumerate(seed.inputs):
        key, job_input = canonical(given)
        if key in seen:
            continue
        seen.add(key)
        ref = seed.reference_outputs[i] if i < len(seed.reference_outputs) else None
        out.append(PlannedInput(key, job_input, "given", ref))
        if len(out) >= limit:
            break
    return out


# ---- input generators -----------------------------------------------------------------------


def generator_name(source: str) -> str | None:
    """The zero-argument function a generator source defines (last one wins: helpers first)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            a = node.args
            required = len(a.posonlyargs) + len(a.args) - len(a.defaults)
            required += sum(1 for d in a.kw_defaults if d is None)
            if required == 0:
                names.append(node.name)
    if "input_generator" in names:
        return "input_generator"
    return names[-1] if names else None


def jsonify(value: Any, _depth: int = 0) -> tuple[bool, Any]:
    """JSON's own conversion (tuples become lists), refusing what JSON would change or lose."""
    if _depth > 100:
        return False, None
    if value is None or isinstance(value, bool | int | str):
        return True, value
    if isinstance(value, float):
        return (True, value) if math.isfinite(value) else (False, None)
    if isinstance(value, list | tuple):
        out = []
        for v in value:
            ok, j = jsonify(v, _depth + 1)
            if not ok:
                return False, None
            out.append(j)
        return True, out
    if isinstance(value, dict):
        outd = {}
        for k, v in value.items():
            ok, j = jsonify(v, _depth + 1)
            if not isinstance(k, str) or not ok:
                return False, None
            outd[k] = j
        return True, outd
    return False, None


@dataclass
class GeneratorState:
    """One seed's generator progress across rounds."""

    seed: Seed
    name: str
    code: str
    rng_root: int
    found: dict[str, PlannedInput] = field(default_factory=dict)
    tries: int = 0
    errors: int = 0
    bad_outputs: int = 0
    unstable: int = 0
    first_error: str | None = None
    first_bad: str | None = None
    stalled: bool = False

    def job(self, attempt: int, run: str) -> Job:
        # The same RNG seed in both runs: a try that still differs depends on time, the OS
        # RNG or hash order, so its input would not reproduce in a rerun.
        return Job(
            id=f"{self.seed.id}:gen{attempt}:{run}",
            code=self.code,
            entry=self.name,
            seed=stable_int(self.rng_root, self.seed.id, "generator", attempt),
        )

    def take(self, a: Result, b: Result | None, limit: int) -> None:
        """Use try results `a` (pool A) and `b` (pool B, None when A failed), in try order."""
        if len(self.found) >= limit:
            return
        if a.status != "ok":
            self.errors += 1
            error = "time limit exceeded" if a.status == "timeout" else (a.error or "")
            self.first_error = self.first_error or f"{a.status}: {error}".strip()
            # A generator that hangs or exhausts memory would do so on every try: stop it
            # rather than spend the whole try budget at the time limit.
            self.stalled = self.stalled or a.status in {"timeout", "memory"}
            return
        if b is None or b.status != "ok" or b.output_repr != a.output_repr:
            self.unstable += 1
            return
        kwargs, why = self._kwargs(a)
        if kwargs is None:
            self.bad_outputs += 1
            self.first_bad = self.first_bad or why
            return
        if self.seed.format == "json":
            ok, as_json = jsonify(kwargs)
            if not ok:
                self.bad_outputs += 1
                self.first_bad = (
                    self.first_bad or "returned values JSON cannot hold (sets, nan, objects)"
                )
                return
            job_input: dict[str, Any] | str = {"args": [], "kwargs": as_json}
            key = format_call_args([], as_json)
        else:
            key = format_call_args([], kwargs)
            job_input = key
        if key not in self.found:
            self.found[key] = PlannedInput(key, job_input, "generator")

    @staticmethod
    def _kwargs(result: Result) -> tuple[dict[str, Any] | None, str]:
        try:
            value = parse_literal(result.output_repr or "")
        except (NotALiteral, RecursionError, ValueError):
            return (
                None,
                f"returned a value that is not a literal: {(result.output_repr or '')[:80]}",
            )
        if not isinstance(value, dict):
            return None, f"returned {type(value).__name__}, expected a dict of keyword arguments"
        if not all(isinstance(k, str) and k.isidentifier() for k in value):
            return None, "returned a dict whose keys are not parameter names"
        return value, ""


def generator_state(seed: Seed, rng_root: int) -> GeneratorState | None:
    source = seed.input_generator or ""
    name = generator_name(source)
    if name is None:
        return None
    code = seed.code.rstrip("\n") + "\n\n\n" + source.strip("\n") + "\n"
    return GeneratorState(seed=seed, name=name, code=code, rng_root=rng_root)


def reference_matches(
    reference: tuple[str, Any] | None, output: Any, output_repr: str
) -> bool | None:
    """Whether the executed output equals the one the seed recorded (None: none recorded)."""
    if reference is None:
        return None
    kind, expected = reference
    try:
        actual = parse_literal(output_repr)
    except (NotALiteral, RecursionError, ValueError):
        return False
    if kind == "json":
        ok, as_json = jsonify(actual)
        if not ok:
            return False
        return json.dumps(as_json, sort_keys=True) == json.dumps(expected, sort_keys=True)
    try:
        return _same(parse_literal(expected), actual)
    except (NotALiteral, RecursionError, ValueError):
        return False


def _same(a: Any, b: Any) -> bool:
    # Type-strict equality, so True != 1 and 1 != 1.0 (the label must be the exact value).
    from kodeio.sandbox.values import literal_repr

    return type(a) is type(b) and literal_repr(a) == literal_repr(b)
