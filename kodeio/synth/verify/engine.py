"""Judge predictions: extract the answer, execute where needed, compare by value.

Output mode: the predicted output is compared with the ground truth the item carries (it
was executed when the I/O pair was made); nothing runs. Input mode: the entry function is
called on the predicted input inside the sandbox, and what it returns is compared with
the target output. `Verdict.produced` keeps what the predicted input really produced,
for the revision turn's feedback.

`verify()` streams: items are read in batches, every execution of a batch goes through
one `Sandbox` (started lazily, or the caller's), and verdicts come out in input order.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from kodeio.sandbox import Job, Result, Sandbox
from kodeio.sandbox.values import (
    format_call_args,
    literal_repr,
    parse_call_args,
    parse_literal,
    to_json_lossless,
)
from kodeio.synth.verify.config import VerifyConfig
from kodeio.synth.verify.extract import Extraction, extract_answer, interpret_answer
from kodeio.synth.verify.judge import POLICIES, Policy, json_normalize, judge_values
from kodeio.synth.verify.values import PARSE_ERRORS, CallAnswer

Mode = Literal["output", "input"]
MODES = ("output", "input")

# Sandbox statuses that are reasons as they are; "error" and "recursion" become exec_error:.
_STATUS_REASONS = {
    "timeout": "timeout",
    "memory": "memory",
    "crashed": "crashed",
    "no_result": "no_result",
    "output_too_large": "output_too_large",
    "blocked": "blocked",
}


@dataclass(frozen=True)
class VerifyItem:
    """One prediction to judge.

    `input` is the pair's input ({"args", "kwargs"} or call-arguments source) and `output`
    its executed output (or `output_repr`, a Python literal, which wins when given: it
    keeps tuples, sets and NaN that JSON cannot). `prediction` is the model's raw text, or
    the answer itself when `prediction_is_answer` (a CRUXEval prediction like `f(1, 2)`).
    `cruxeval_rules`: CRUXEval's scorer rules: an input prediction must be a call of the
    entry, and an output prediction that contains the call `entry(<input>)` is wrong.
    """

    id: str
    code: str
    entry: str
    mode: Mode
    input: dict[str, Any] | str | None
    output: Any
    prediction: str
    policy: Policy = "json"
    prediction_is_answer: bool = False
    output_repr: str | None = None
    seed: int = 0
    cruxeval_rules: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"item {self.id}: mode must be 'output' or 'input', got {self.mode!r}")
        if self.policy not in POLICIES:
            raise ValueError(
                f"item {self.id}: policy must be one of {', '.join(POLICIES)}, got {self.policy!r}"
            )

    def expected(self) -> Any:
        """The ground-truth output as a value."""
        if self.output_repr is None:
            return self.output
        try:
            return parse_literal(self.output_repr)
        except PARSE_ERRORS as exc:
            raise ValueError(
                f"item {self.id}: output_repr is not a Python literal ({exc})"
            ) from None


@dataclass
class Verdict:
    """The judgement of one prediction.

    `reason`: match, mismatch, no_answer, unparsable, wrong_key, unterminated,
    wrong_function, not_a_call, copies_call, invalid_input, non_literal_input,
    exec_error:<Type>, timeout, memory, blocked,
    crashed, no_result, output_too_large, unrepresentable.
    `produced`: in input mode, what the entry returned on the predicted input.
    `answer`: the extracted prediction (a value, or a CallAnswer for call-form inputs).
    `call_repr`: the arguments the entry was called with, as executed.
    """

    id: str
    correct: bool
    reason: str
    produced: Any = None
    produced_repr: str | None = None
    answer: Any = None
    extraction: Extraction | None = None
    mode: Mode = "output"
    error: str | None = None
    call_repr: str | None = None

    @property
    def answer_repr(self) -> str | None:
        if self.extraction is None or not self.extraction.ok:
            return None
        if isinstance(self.answer, CallAnswer):
            return self.answer.call_source("") if self.answer.func else self.answer.args_source
        return literal_repr(self.answer)

    def to_row(self) -> dict[str, Any]:
        """The JSONL row of `kodeio verify`: `produced` is JSON when lossless, else null."""
        is_json, produced = to_json_lossless(self.produced)
        return {
            "id": self.id,
            "correct": self.correct,
            "reason": self.reason,
            "produced": produced if is_json else None,
            "produced_repr": self.produced_repr,
            "mode": self.mode,
            "answer_repr": self.answer_repr,
            "error": self.error,
        }


@dataclass
class _Plan:
    item: VerifyItem
    extraction: Extraction | None
    verdict: Verdict | None = None
    job: Job | None = None
    slot: int = -1  # index of its execution in the batch's job list
    kind: Literal["call", "expr_check", "expr_pair"] = "call"
    answer: Any = None


def verify(
    items: Iterable[VerifyItem],
    config: VerifyConfig | None = None,
    sandbox: Sandbox | None = None,
) -> Iterator[Verdict]:
    """Judge every item; one Verdict per item, in order.

    Executions run through `sandbox` when given (it is left open), else through one
    Sandbox built from `config.sandbox`, started only if some item needs execution and
    closed when the iterator is exhausted or closed.
    """
    cfg = config or VerifyConfig()
    owned: Sandbox | None = None

    def get_sandbox() -> Sandbox:
        nonlocal owned
        if sandbox is not None:
            return sandbox
        if owned is None:
            owned = Sandbox(cfg.sandbox)
            owned.start()
        return owned

    it = iter(items)
    try:
        while batch := list(islice(it, cfg.batch_size)):
            plans = [_plan(item, cfg) for item in batch]
            jobs = _assign_jobs(plans, cfg.dedupe)
            if not jobs:
                for plan in plans:
                    assert plan.verdict is not None
                    yield plan.verdict
                continue
            yield from _run_batch(plans, jobs, get_sandbox(), cfg)
    finally:
        if owned is not None:
            owned.close()


def _run_batch(
    plans: list[_Plan], jobs: list[Job], sb: Sandbox, cfg: VerifyConfig
) -> Iterator[Verdict]:
    feed = _StoppableJobs(jobs)
    results = sb.run(feed)
    got: list[Result] = []
    try:
        for plan in plans:
            if plan.verdict is not None:
                yield plan.verdict
                continue
            while len(got) <= plan.slot:
                got.append(next(results))
            yield _judge_execution(plan, got[plan.slot], cfg)
    finally:
        # Abandoned half-way (the caller stopped iterating): send nothing new and collect
        # what is in flight, so a caller's sandbox is left idle and consistent.
        feed.stop()
        for _ in results:
            pass


class _StoppableJobs:
    """An iterator over jobs that can be told to end early."""

    def __init__(self, jobs: list[Job]) -> None:
        self._jobs = iter(jobs)
        self._stopped = False

    def __iter__(self) -> _StoppableJobs:
        return self

    def __next__(self) -> Job:
        if self._stopped:
            raise StopIteration
        return next(self._jobs)

    def stop(self) -> None:
        self._stopped = True


def _assign_jobs(plans: list[_Plan], dedupe: bool) -> list[Job]:
    jobs: list[Job] = []
    seen: dict[tuple[Any, ...], int] = {}
    for plan in plans:
        job = plan.job
        if job is None:
            continue
        key = (job.code, job.entry, _input_key(job.input), job.expr, job.seed) if dedupe else None
        if key is not None and key in seen:
            plan.slot = seen[key]
            continue
        plan.slot = len(jobs)
        jobs.append(job)
        if key is not None:
            seen[key] = plan.slot
    return jobs


def _input_key(value: dict[str, Any] | str | None) -> str:
    if isinstance(value, dict):
        return "d" + literal_repr(value)
    return "s" + str(value)


# ---- planning: extraction and what to execute -------------------------------------------


def _plan(item: VerifyItem, cfg: VerifyConfig) -> _Plan:
    key = item.mode
    if item.prediction_is_answer:
        ext = interpret_answer(item.prediction or "", key)
    else:
        ext = extract_answer(item.prediction or "", key)
    plan = _Plan(item, ext)
    if item.cruxeval_rules and _plan_cruxeval(plan, ext):
        return plan
    if not ext.ok:
        plan.verdict = _verdict(plan, False, ext.reason or "no_answer", error=ext.detail or None)
        return plan
    plan.answer = ext.value
    if cfg.reject_unterminated and ext.unterminated:
        plan.verdict = _verdict(
            plan, False, "unterminated", error="no </think>: the trace was cut off"
        )
        return plan
    if item.mode == "output":
        expected = item.expected()
        correct = judge_values(ext.value, expected, item.policy, cfg.rel_tol, cfg.abs_tol)
        plan.verdict = _verdict(plan, correct, "match" if correct else "mismatch")
        return plan
    call_input, problem = _call_input(ext.value, item, cfg.literal_inputs)
    if problem is not None:
        plan.verdict = _verdict(plan, False, problem[0], error=problem[1])
        return plan
    plan.job = Job(id=item.id, code=item.code, entry=item.entry, input=call_input, seed=item.seed)
    return plan


def _plan_cruxeval(plan: _Plan, ext: Extraction) -> bool:
    """CRUXEval's scorer rules; True when they decided the plan.

    The official check is `assert <output> == <prediction>` after the code. An output
    prediction holding the call `f(<input>)` is wrong without running. An input prediction
    that calls the entry runs as `<output> == f(...)` in the sandbox, returning the value
    too (so the output is compared by the object's own `==`, as CRUXEval does, even when it
    is not a literal). A given prediction that is not a literal (`5/2`, `f(1) + f(2)`) is
    evaluated as the official check would, inside the sandbox; a call to anything but the
    entry is still never run.
    """
    item = plan.item
    expected_src = item.output_repr if item.output_repr is not None else literal_repr(item.output)
    if item.mode == "output" and isinstance(item.input, str):
        call = f"{item.entry}({item.input})"
        # CRUXEval post-processes `assert f(x) == y` to `y` before this check.
        answer = item.prediction if item.prediction_is_answer else ext.answer_text
        if "==" in answer:
            answer = answer.split("==")[1]
        if call in answer:
            plan.verdict = _verdict(
                plan, False, "copies_call", error=f"the prediction contains the call {call}"
            )
            return True
    if not ext.ok and ext.reason == "unparsable" and item.prediction_is_answer:
        if item.mode == "output" or f"{item.entry}(" in item.prediction:
            plan.job = Job(
                id=item.id,
                code=item.code,
                entry=item.entry,
                expr=f"bool({expected_src} == {item.prediction.strip()})",
                seed=item.seed,
            )
            plan.kind = "expr_check"
            return True
        return False
    if item.mode == "input" and ext.ok and isinstance(ext.value, CallAnswer):
        if ext.value.func != item.entry:
            return False  # wrong_function, decided by the general path
        plan.answer = ext.value
        call = ext.value.call_source(item.entry)
        plan.job = Job(
            id=item.id,
            code=item.code,
            entry=item.entry,
            expr=f"(lambda __kodeio_r: (bool({expected_src} == __kodeio_r), __kodeio_r))({call})",
            seed=item.seed,
        )
        plan.kind = "expr_pair"
        return True
    return False


def _call_input(
    answer: Any, item: VerifyItem, literal_only: bool = False
) -> tuple[dict[str, Any] | str | None, tuple[str, str] | None]:
    """The sandbox input for a predicted input, or (reason, detail) why it is not run.

    A call form `f(...)` must call the entry itself; calling anything else is wrong and is
    never executed. A dict is keyword arguments (CodeI/O's `{"input": {...}}`); bare call
    arguments are passed as written; any other value is the single positional argument
    (CodeI/O calls `f(input)` when the input is not an object). With `literal_only`, call
    arguments that are code rather than literals are not run: that code would run in the
    job's own process, where it could write any result it likes.
    """
    if isinstance(answer, CallAnswer):
        if literal_only and (answer.func is None or answer.func == item.entry):
            try:
                parse_call_args(answer.args_source)
            except PARSE_ERRORS:
                return None, (
                    "non_literal_input",
                    f"the arguments are code, not literals: {answer.args_source[:80]}",
                )
        if answer.func is None:
            if item.cruxeval_rules:
                return None, ("not_a_call", f"expected a call {item.entry}(...)")
            return answer.args_source, None
        if answer.func != item.entry:
            return None, (
                "wrong_function",
                f"the prediction calls {answer.func}(...), not {item.entry}(...)",
            )
        return answer.args_source, None
    if item.cruxeval_rules:
        return None, ("not_a_call", f"expected a call {item.entry}(...)")
    if item.policy == "json":
        answer = json_normalize(answer)
    if isinstance(answer, dict):
        if not all(isinstance(k, str) for k in answer):
            return None, ("invalid_input", "keyword-argument names must be strings")
        return _wire_args([], answer)
    return _wire_args([answer], {})


def _wire_args(
    args: list[Any], kwargs: dict[str, Any]
) -> tuple[dict[str, Any] | str | None, tuple[str, str] | None]:
    ok, wire = to_json_lossless({"args": args, "kwargs": kwargs})
    if ok:
        return wire, None
    # Not JSON (tuples, sets, NaN): send Python literal source, which the worker parses.
    if not all(k.isidentifier() and not keyword.iskeyword(k) for k in kwargs):
        return None, ("invalid_input", "keyword-argument names must be identifiers")
    return format_call_args(args, kwargs), None


# ---- judging an execution -----------------------------------------------------------------


def _judge_execution(plan: _Plan, result: Result, cfg: VerifyConfig) -> Verdict:
    item = plan.item
    if result.status == "ok" and plan.kind == "expr_check":
        correct = result.output is True
        return _verdict(plan, correct, "match" if correct else "mismatch")
    if result.status == "ok" and plan.kind == "expr_pair":
        return _judge_pair(plan, result)
    if result.status == "ok":
        produced_repr = result.output_repr
        if result.output_is_json:
            produced = result.output
        else:
            try:
                produced = parse_literal(produced_repr or "")
            except PARSE_ERRORS:
                # e.g. an object whose repr is `<Node at 0x...>`: nothing to compare on the host
                return _verdict(
                    plan,
                    False,
                    "unrepresentable",
                    produced_repr=produced_repr,
                    error="the output is not a literal value",
                    call_repr=result.input_repr,
                )
        correct = judge_values(produced, item.expected(), item.policy, cfg.rel_tol, cfg.abs_tol)
        return _verdict(
            plan,
            correct,
            "match" if correct else "mismatch",
            produced=produced,
            produced_repr=produced_repr,
            call_repr=result.input_repr,
        )
    if result.status == "error":
        reason = f"exec_error:{result.error_type or 'Error'}"
    elif result.status == "recursion":
        reason = "exec_error:RecursionError"
    else:
        reason = _STATUS_REASONS.get(result.status, result.status)
    return _verdict(plan, False, reason, error=result.error, call_repr=result.input_repr)


def _judge_pair(plan: _Plan, result: Result) -> Verdict:
    """`(equal, value)` from a CRUXEval input check: the verdict and what was produced."""
    answer = plan.answer
    call_repr = answer.args_source if isinstance(answer, CallAnswer) else None
    text = result.output_repr or ""
    try:
        tree = ast.parse(text, mode="eval").body
        if not (isinstance(tree, ast.Tuple) and len(tree.elts) == 2):
            raise ValueError("not a pair")
        correct = parse_literal(ast.unparse(tree.elts[0])) is True
        produced_repr = ast.get_source_segment(text, tree.elts[1])
    except PARSE_ERRORS:
        # The pair is built by kodeio's own expression, but the predicted call ran in the
        # same process and could have written anything as the result: judge it wrong.
        return _verdict(
            plan,
            False,
            "unrepresentable",
            produced_repr=text[:200],
            error="the check did not return its (equal, value) pair",
            call_repr=call_repr,
        )
    try:
        produced = parse_literal(produced_repr or "")
    except PARSE_ERRORS:
        produced = None  # compared inside the sandbox by its own ==; nothing to show here
    return _verdict(
        plan,
        correct,
        "match" if correct else "mismatch",
        produced=produced,
        produced_repr=produced_repr,
        call_repr=call_repr,
    )


def _verdict(
    plan: _Plan,
    correct: bool,
    reason: str,
    *,
    produced: Any = None,
    produced_repr: str | None = None,
    error: str | None = None,
    call_repr: str | None = None,
) -> Verdict:
    return Verdict(
        id=plan.item.id,
        correct=correct,
        reason=reason,
        produced=produced,
        produced_repr=produced_repr,
        answer=plan.answer,
        extraction=plan.extraction,
        mode=plan.item.mode,
        error=error,
        call_repr=call_repr,
    )
