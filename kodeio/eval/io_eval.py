"""`kodeio eval io`: can the model predict outputs and inputs of code? pass@k, by execution.

The data is CRUXEval JSONL (`code`, `input`, `output` as Python source, entry `f`) or
kodeio I/O pairs (`kodeio io run` output). Each (problem, mode) is asked with the
synthesis stage's prompt (`kodeio/templates/synth/*_prediction.*.jinja`), answered by the
synthesis backends, and judged by the verifier (`kodeio.synth.verify`): answers are
extracted after `</think>`, output predictions compared by value with the executed ground
truth, input predictions executed in the sandbox. CRUXEval rows are judged with CRUXEval's
rules (plain `==`, an input must be a call `f(...)`, an output that repeats the call is
wrong), and their predictions are also written in CRUXEval's generations format, so
`kodeio eval score-cruxeval` (or the official scorer) can re-score them.

Outputs in the output directory: `report.json`; `items.jsonl` (one row per problem and
mode with every sample's text, answer, verdict; resumable, keyed by content hash);
`cruxeval_generations_<mode>.json` for CRUXEval data. While running, `items.jsonl.partial`
and the generation journal `items.jsonl.gen.jsonl` make a killed run resumable.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.eval.config import IoEvalConfig
from kodeio.eval.generate import build_request, generate_all
from kodeio.eval.items import reopen_resumable
from kodeio.eval.report import build_report, content_key, file_fingerprint, write_report
from kodeio.eval.stats import pass_at_k, score_interval
from kodeio.files import ResumableJsonl, atomic_write_text, iter_jsonl
from kodeio.llm.base import Backend, GenRequest, GenResult
from kodeio.progress import progress_bar
from kodeio.synth.prompts import Pair, prediction_prompt, template_version

ITEM_VERSION = "io-eval-v1"


@dataclass
class Task:
    index: int  # position of the problem in the data file
    pair: Pair
    mode: str
    request: GenRequest
    key: str


def detect_format(path: Path, row: dict[str, Any]) -> str:
    if "entry" in row:
        return "kodeio"
    if all(isinstance(row.get(k), str) for k in ("code", "input", "output")):
        return "cruxeval"
    raise InputError(
        f"{path}:1: cannot tell the format: expected CRUXEval rows (code, input, output as "
        "strings) or kodeio I/O pairs (id, code, entry, input, output)"
    )


def load_pairs(config: IoEvalConfig) -> tuple[str, list[Pair]]:
    fmt = config.format
    pairs: list[Pair] = []
    for lineno, row in iter_jsonl(config.data):
        where = f"{config.data}:{lineno}"
        if fmt == "auto":
            fmt = detect_format(config.data, row)
        if fmt == "cruxeval":
            for key in ("code", "input", "output"):
                if not isinstance(row.get(key), str):
                    raise InputError(f"{where}: key '{key}' must be a string of Python source")
            index = len(pairs)
            pairs.append(
                Pair(
                    id=str(row.get("id") or f"sample_{index}"),
                    seed_id=str(row.get("id") or f"sample_{index}"),
                    code=row["code"],
                    entry="f",
                    input=row["input"],
                    output=None,
                    output_repr=row["output"],
                    policy="python",
                )
            )
        else:
            pairs.append(Pair.from_row(row, where))
        if config.max_items and len(pairs) >= config.max_items:
            break
    if not pairs:
        raise InputError(f"{config.data}: no rows")
    return fmt, pairs


def make_tasks(config: IoEvalConfig, fmt: str, pairs: list[Pair]) -> list[Task]:
    tag = template_version()
    tasks = []
    for index, pair in enumerate(pairs):
        for mode in config.modes:
            prompt = prediction_prompt(pair, mode, config.language)
            request = build_request(config, prompt, tag)
            key = content_key(
                ITEM_VERSION,
                request.key,
                fmt,
                mode,
                pair.code,
                pair.entry,
                pair.input,
                pair.output,
                pair.output_repr,
                pair.policy,
                config.verify,
            )
            tasks.append(Task(index, pair, mode, request, key))
    return tasks


def verify_items(task: Task, result: GenResult, fmt: str) -> list[Any]:
    from kodeio.synth.verify import VerifyItem

    pair = task.pair
    items = []
    for i, completion in enumerate(result.completions):
        items.append(
            VerifyItem(
                id=f"{task.key}:{i}",
                code=pair.code,
                entry=pair.entry,
                mode=task.mode,  # type: ignore[arg-type]
                input=pair.input,
                output=pair.output,
                output_repr=pair.output_repr if pair.policy == "python" else None,
                prediction=completion.text,
                policy="python_eq" if fmt == "cruxeval" else pair.policy,
                cruxeval_rules=fmt == "cruxeval",
            )
        )
    return items


def prediction_source(verdict: Any, entry: str) -> str:
    """The answer as CRUXEval's generations format spells it ("" when none was found)."""
    from kodeio.sandbox.values import literal_repr

    answer = verdict.answer
    if verdict.extraction is None or not verdict.extraction.ok:
        return ""
    call_source = getattr(answer, "call_source", None)
    if callable(call_source):
        return str(call_source(entry))
    return literal_repr(answer)


def item_row(task: Task, result: GenResult, verdicts: list[Any]) -> dict[str, Any]:
    return {
        "key": task.key,
        "id": task.pair.id,
        "index": task.index,
        "mode": task.mode,
        "n": len(verdicts),
        "correct": [bool(v.correct) for v in verdicts],
        "reasons": [v.reason for v in verdicts],
        "predictions": [prediction_source(v, task.pair.entry) for v in verdicts],
        "unterminated": [bool(v.extraction and v.extraction.unterminated) for v in verdicts],
        "finish_reasons": [c.finish_reason for c in result.completions],
        "completion_tokens": [c.completion_tokens for c in result.completions],
        "completions": [c.text for c in result.completions],
    }


def run_tasks(
    config: IoEvalConfig,
    fmt: str,
    tasks: list[Task],
    out: ResumableJsonl,
    journal: Path,
    backend: Backend | None,
) -> None:
    """Generate and judge every task not yet in `out`, a batch at a time."""
    from kodeio.sandbox import Sandbox
    from kodeio.synth.verify import VerifyConfig, verify

    todo = [t for t in tasks if t.key not in out.done_keys]
    if not todo:
        return
    verify_cfg = VerifyConfig(**{**config.verify, "sandbox": config.sandbox_config(fmt)})
    by_request: dict[str, list[Task]] = {}
    for t in todo:
        by_request.setdefault(t.request.key, []).append(t)
    with (
        progress_bar("eval io", total=len(tasks)) as bar,
        Sandbox(verify_cfg.sandbox) as sandbox,
    ):
        bar.update(0, completed=len(tasks) - len(todo))
        for result in generate_all(config, [t.request for t in todo], journal, backend=backend):
            for task in by_request.get(result.request.key, []):
                verdicts = list(verify(verify_items(task, result, fmt), verify_cfg, sandbox))
                out.write(item_row(task, result, verdicts))
                bar.update(0, advance=1)


def summarize(
    rows: list[dict[str, Any]], modes: list[str], ks: list[int]
) -> tuple[dict[str, float], dict[str, tuple[float, float]], dict[str, Any]]:
    metrics: dict[str, float] = {}
    intervals: dict[str, tuple[float, float]] = {}
    counts: dict[str, Any] = {}
    for mode in modes:
        mine = [r for r in rows if r["mode"] == mode]
        if not mine:
            continue
        ns = [r["n"] for r in mine]
        cs = [sum(r["correct"]) for r in mine]
        per_problem = [c / n if n else 0.0 for c, n in zip(cs, ns, strict=True)]
        metrics[f"io-{mode}/pass@1"] = 100 * sum(per_problem) / len(per_problem)
        lo, hi = score_interval(per_problem)
        intervals[f"io-{mode}/pass@1"] = (100 * lo, 100 * hi)
        # pass@k for the configured k that every problem has samples for, and pass@n.
        for k in sorted({*ks, min(ns)}):
            if k > 1 and min(ns) >= k:
                vals = [pass_at_k(n, c, k) for n, c in zip(ns, cs, strict=True)]
                metrics[f"io-{mode}/pass@{k}"] = 100 * sum(vals) / len(vals)
        reasons: Counter[str] = Counter(x for r in mine for x in r["reasons"])
        tokens = [t for r in mine for t in r["completion_tokens"]]
        counts[mode] = {
            "problems": len(mine),
            "samples": sum(ns),
            "correct": sum(cs),
            "reasons": dict(reasons.most_common()),
            "unterminated": sum(sum(r["unterminated"]) for r in mine),
            "truncated": sum(f == "length" for r in mine for f in r["finish_reasons"]),
            "mean_completion_tokens": round(sum(tokens) / len(tokens), 1) if tokens else 0,
        }
    return metrics, intervals, counts


def write_cruxeval_generations(out_dir: Path, rows: list[dict[str, Any]], modes: list[str]) -> None:
    for mode in modes:
        mine = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["index"])
        gens = {f"sample_{r['index']}": r["predictions"] for r in mine}
        atomic_write_text(
            out_dir / f"cruxeval_generations_{mode}.json", json.dumps(gens, ensure_ascii=False)
        )


def run_stage(config: IoEvalConfig, backend: Backend | None = None) -> Path:
    """Evaluate; return the path of report.json. `backend` overrides the configured one."""
    fmt, pairs = load_pairs(config)
    tasks = make_tasks(config, fmt, pairs)
    out_dir = config.resolve_output_dir("io", config.data)
    items_path = out_dir / "items.jsonl"
    journal = items_path.with_name(items_path.name + ".gen.jsonl")
    out = reopen_resumable(items_path)
    resumed = out.resumed
    try:
        run_tasks(config, fmt, tasks, out, journal, backend)
        wanted = {t.key for t in tasks}
        rows = [r for r in out.rows() if r["key"] in wanted]
        out.finish()
    finally:
        out.close()
    journal.unlink(missing_ok=True)  # items.jsonl holds every completion now
    metrics, intervals, counts = summarize(rows, config.modes, config.k)
    if fmt == "cruxeval":
        write_cruxeval_generations(out_dir, rows, config.modes)
    report = build_report(
        "io",
        f"io-{config.data.stem}",
        model=config.model_info(),
        data={**file_fingerprint(config.data), "format": fmt, "problems": len(pairs)},
        config=config.model_dump(mode="json"),
        counts={"problems": len(pairs), "tasks": len(tasks), "resumed": resumed, **counts},
        metrics=metrics,
        intervals=intervals,
        sizes={
            name: counts[name.split("/")[0].removeprefix("io-")]["problems"] for name in metrics
        },
        extra={"prompt_templates": template_version()},
    )
    return write_report(out_dir / "report.json", report)
