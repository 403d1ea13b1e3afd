"""CRUXEval's official scoring rules, executed in the kodeio sandbox.

The official scorer (facebookresearch/cruxeval, `evaluation/`) decides each generation `g`
for a sample `(code, input, output)` like this, and so does this module:

1. input mode and the text `f(` does not occur in `g`: wrong, not executed;
2. output mode and the text `f(<input>)` occurs in `g` (the model just repeated the
   call): wrong, not executed;
3. otherwise the program `code + "\\n" + "assert " + output + " == " + g` is executed
   with a 3 s limit; the generation is right iff it runs without raising.

Rule 3 is plain text concatenation, and its quirks are part of the semantics: `g = "1 or
True"` passes (`assert o == 1 or True`), `g = "5, 'x'"` becomes an assert message, a `g`
with newlines runs extra statements. pass@k is Chen et al.'s estimator with the official
shortcut `n - c < k -> 1.0`, so with fewer than 5 generations pass@5 is 100 for every
sample, and an empty generation list counts as solved. Both are kept: the goal is numbers
identical to the leaderboard's.

Differences that cannot matter for honest predictions: programs run in the sandbox (fork
server in bubblewrap + seccomp + rlimits) instead of a Manager+Process per check with
`reliability_guard`; CPU time is limited at 3 s with a 4 s wall backstop (official: 3 s
wall, 4 s kill); memory is capped (official: unlimited); PYTHONHASHSEED is fixed
(official: random per process, so set-order-dependent predictions flip between runs).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kodeio.errors import InputError
from kodeio.eval.items import reopen_resumable
from kodeio.eval.report import content_key
from kodeio.files import iter_jsonl

MODES = ("input", "output")
CHECK_VERSION = "cruxeval-check-v1"


@dataclass(frozen=True)
class CruxSample:
    """One benchmark row; `index` is its line order, which names it `sample_<index>`."""

    index: int
    code: str
    input: str
    output: str

    @property
    def key(self) -> str:
        return f"sample_{self.index}"


def load_samples(path: Path) -> list[CruxSample]:
    """cruxeval.jsonl rows in file order (the official scorer keys them by position)."""
    samples = []
    for lineno, row in iter_jsonl(path, required=("code", "input", "output")):
        for key in ("code", "input", "output"):
            if not isinstance(row[key], str):
                raise InputError(
                    f"{path}:{lineno}: key '{key}' must be a string of Python source, "
                    f"got {type(row[key]).__name__}"
                )
        samples.append(CruxSample(len(samples), row["code"], row["input"], row["output"]))
    if not samples:
        raise InputError(f"{path}: no samples (expected CRUXEval JSONL rows)")
    return samples


def load_generations(path: Path, count: int) -> tuple[dict[str, Any], list[list[str]]]:
    """The raw object and, per sample in order, its list of generation strings."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: generations file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise InputError(
            f"{path}: expected a JSON object mapping 'sample_N' to a list of strings, "
            f"got {type(raw).__name__}"
        )
    lists: list[list[str]] = []
    for i in range(count):
        key = f"sample_{i}"
        if key not in raw:
            raise InputError(
                f"{path}: missing key '{key}' (the data has {count} samples; expected "
                f"sample_0 .. sample_{count - 1})"
            )
        gens = raw[key]
        if not isinstance(gens, list):
            raise InputError(
                f"{path}: key '{key}' must be a list of strings, got {type(gens).__name__}"
            )
        for j, g in enumerate(gens):
            if not isinstance(g, str):
                raise InputError(f"{path}: {key}[{j}] must be a string, got {type(g).__name__}")
        lists.append(gens)
    return raw, lists


def infer_mode(generations_path: Path) -> str:
    """The official script's rule: 'input' anywhere in the path means input prediction."""
    return "input" if "input" in str(generations_path) else "output"


def precheck(mode: str, sample: CruxSample, generation: str) -> bool | None:
    """The official fallbacks: False when a rule rejects `generation` unexecuted, else None."""
    if mode == "input" and "f(" not in generation:
        return False
    if mode == "output" and f"f({sample.input})" in generation:
        return False
    return None


def check_program(sample: CruxSample, generation: str) -> str:
    """The exact program the official scorer executes for one generation."""
    return f"{sample.code}\nassert {sample.output} == {generation}"


def official_pass_at_k(n: int, c: int, k: int) -> float:
    """CRUXEval's pass@k, bit for bit (numpy product, the `n - c < k` shortcut)."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def summarize(scores: list[list[bool]]) -> dict[str, float]:
    """pass_at_1 and pass_at_5 in percent, summed in sample order like the official code."""
    p1, p5 = [], []
    for result in scores:
        c, n = result.count(True), len(result)
        p1.append(official_pass_at_k(n, c, 1))
        p5.append(official_pass_at_k(n, c, 5))
    return {"pass_at_1": sum(p1) / len(p1) * 100, "pass_at_5": sum(p5) / len(p5) * 100}


# ---- executing checks in the sandbox ------------------------------------------------------


def check_key(program: str, timeout: float) -> str:
    return content_key(CHECK_VERSION, program, timeout)


class CheckCache:
    """Verdicts of executed programs, by content hash, kept across runs in a JSONL file.

    Backed by `ResumableJsonl`: while scoring, rows go to `FILE.partial` (a kill loses at
    most the row being written); when done the file is renamed to `FILE` and a later run
    picks it up again, so re-scoring unchanged generations executes nothing.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.store = reopen_resumable(self.path)
        self.verdicts: dict[str, bool] = {
            row["key"]: bool(row["passed"]) for row in self.store.rows()
        }

    def __contains__(self, key: str) -> bool:
        return key in self.verdicts

    def add(self, key: str, passed: bool, status: str, error: str | None) -> None:
        self.verdicts[key] = passed
        self.store.write(
            {"key": key, "passed": passed, "status": status, "error": (error or "")[:300] or None}
        )

    def finish(self) -> None:
        self.store.finish()

    def close(self) -> None:
        self.store.close()


def run_checks(
    programs: Iterable[tuple[str, str]],
    sandbox: Any,
    timeout: float,
) -> Iterator[tuple[str, bool, str, str | None]]:
    """Execute (key, program) pairs in the sandbox; yield (key, passed, status, error).

    Each program runs as `exec(program)` and then the expression `True`; any exception,
    timeout, crash or blocked system call means the assert did not hold.
    """
    from kodeio.sandbox import Job

    jobs = (Job(id=key, code=program, expr="True", timeout=timeout) for key, program in programs)
    for result in sandbox.run(jobs):
        passed = result.status == "ok" and result.output is True
        yield result.id, passed, result.status, result.error


def score_generations(
    samples: list[CruxSample],
    generations: list[list[str]],
    mode: str,
    sandbox: Any,
    timeout: float,
    cache: CheckCache | None = None,
    progress: Any = None,
) -> tuple[list[list[bool]], dict[str, Any]]:
    """Per-sample lists of booleans (official order) and counts of how each was decided.

    Identical programs (the same prediction sampled twice) are executed once.
    `progress(advance, total)` is called once with the number of programs to execute and
    then once per executed program.
    """
    if mode not in MODES:
        raise InputError(f"mode must be 'input' or 'output', got {mode!r}")
    decided: list[list[bool | str]] = []  # bool, or the key of a program to execute
    todo: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for sample, gens in zip(samples, generations, strict=True):
        row: list[bool | str] = []
        for g in gens:
            early = precheck(mode, sample, g)
            if early is not None:
                counts["rejected_" + ("no_call" if mode == "input" else "repeats_call")] += 1
                row.append(early)
                continue
            program = check_program(sample, g)
            key = check_key(program, timeout)
            row.append(key)
            if cache is not None and key in cache:
                counts["cached"] += 1
            elif key in todo:
                counts["duplicate"] += 1
            else:
                todo[key] = program
        decided.append(row)
    counts["executed"] = len(todo)
    if progress is not None:
        progress(0, len(todo))
    verdicts: dict[str, bool] = dict(cache.verdicts) if cache is not None else {}
    statuses: Counter[str] = Counter()
    for key, passed, status, error in run_checks(todo.items(), sandbox, timeout):
        verdicts[key] = passed
        statuses[status] += 1
        if cache is not None:
            cache.add(key, passed, status, error)
        if progress is not None:
            progress(1, len(todo))
    scores = [[v if isinstance(v, bool) else verdicts[v] for v in row] for row in decided]
    counts["statuses"] = dict(statuses)
    return scores, dict(counts)
