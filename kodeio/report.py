"""`kodeio report RUN_DIR`: one static, self-contained HTML page describing a pipeline run.

The page shows stage counts, verified yield by mode and by turn, the training loss curve,
the eval tables, the export manifest, and a browsable sample of verified and failed traces
next to their code and execution results. Everything is read from the run directory:

    RUN/run.json                      the run manifest (versions, configs, counts, timings)
    RUN/io/pairs.jsonl, rejects.jsonl ground-truth I/O pairs and what was filtered out
    RUN/synth/traces.jsonl            reasoning traces with turns and verdicts
    RUN/train/trainer_state.json      log_history -> loss curve (loss.png as a fallback)
    RUN/grpo/grpo_steps.jsonl         the optional GRPO stage: reward curve (reward.png as a
                                      fallback) and train_summary.json
    RUN/eval/**/report.json           one eval report each, with a `metrics` dict
    RUN/export/manifest.json          what the export stage wrote

Any missing part is shown as "not run", so the page works on partial runs. The data is
embedded as JSON in the template `kodeio/templates/report/report.html`; the page uses no
network and no external script. Trace files are streamed, and only a bounded,
deterministic sample of traces (smallest hash of the id per status) is embedded.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from kodeio.config import StageConfig
from kodeio.errors import InputError
from kodeio.files import atomic_write_text, iter_jsonl, partial_path
from kodeio.wiring import Recipe, StageWiring

TEMPLATE = "report.html"
DATA_MARKER = "/*__KODEIO_REPORT_DATA__*/"
TRACE_STATUSES = ("verified_first", "verified_revised", "failed")
# Long completions are cut in the page; the full text stays in traces.jsonl.
MAX_TEXT = 12000


@dataclass(frozen=True)
class ReportOptions:
    samples_per_status: int = 60  # traces embedded per status (verified_first, ...)


class ReportConfig(StageConfig):
    """The `report` section of a recipe; `run_dir` is inherited from the recipe."""

    run_dir: Path = Field(description="the run directory to describe")
    output: Path | None = Field(None, description="HTML file; default RUN_DIR/report.html")
    samples_per_status: int = Field(60, ge=1, description="traces embedded per status")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; expected JSON") from None


def _jsonl_source(path: Path) -> tuple[Path | None, str]:
    """The file to read for `path` and its state: done, partial (stage still running), or
    missing."""
    if path.is_file():
        return path, "done"
    partial = partial_path(path)
    if partial.is_file():
        return partial, "partial"
    return None, "not run"


def _iter_rows(path: Path, state: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) of a JSONL file; a `.partial` file may end in a torn line, which is
    skipped (its writer is still running)."""
    if state != "partial":
        yield from iter_jsonl(path)
        return
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.endswith("\n"):
                break  # the writer was mid-line
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                yield lineno, row


def _clip(text: Any, limit: int = MAX_TEXT) -> Any:
    if isinstance(text, str) and len(text) > limit:
        return text[:limit] + f"\n… [{len(text) - limit} more characters in the trace file]"
    return text


def _rank(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


# ---- stages ---------------------------------------------------------------------------------


def collect_io(run_dir: Path) -> dict[str, Any]:
    """Pair counts (seeds, categories) and reject counts by reason."""
    pairs_path, state = _jsonl_source(run_dir / "io" / "pairs.jsonl")
    info: dict[str, Any] = {"state": state, "pairs": 0, "seeds": 0, "rejects": None}
    if pairs_path is not None:
        seeds: set[str] = set()
        categories: Counter[str] = Counter()
        for _, row in _iter_rows(pairs_path, state):
            info["pairs"] += 1
            seeds.add(str(row.get("seed_id")))
            categories[str(row.get("category") or "uncategorized")] += 1
        info["seeds"] = len(seeds)
        info["categories"] = dict(categories.most_common())
    for name in ("rejects.jsonl", "pairs.rejects.jsonl"):
        rejects_path, rejects_state = _jsonl_source(run_dir / "io" / name)
        if rejects_path is not None:
            reasons: Counter[str] = Counter()
            for _, row in _iter_rows(rejects_path, rejects_state):
                reasons[str(row.get("reason") or row.get("status") or "unknown")] += 1
            info["rejects"] = dict(reasons.most_common())
            break
    return info


def lookup_pairs(run_dir: Path, wanted: set[str]) -> dict[str, dict[str, Any]]:
    """The I/O pairs the sampled traces refer to (only those: pair files can be huge)."""
    pairs_path, state = _jsonl_source(run_dir / "io" / "pairs.jsonl")
    found: dict[str, dict[str, Any]] = {}
    if pairs_path is None or not wanted:
        return found
    for _, row in _iter_rows(pairs_path, state):
        pair_id = str(row.get("id"))
        if pair_id in wanted:
            found[pair_id] = {
                "seed_id": row.get("seed_id"),
                "entry": row.get("entry"),
                "code": _clip(row.get("code"), 6000),
                "input_repr": _clip(row.get("input_repr"), 2000),
                "output_repr": _clip(row.get("output_repr"), 2000),
                "description": _clip(row.get("problem_description"), 2000),
                "category": row.get("category"),
            }
    return found


def collect_traces(run_dir: Path, options: ReportOptions) -> dict[str, Any]:
    path, state = _jsonl_source(run_dir / "synth" / "traces.jsonl")
    info: dict[str, Any] = {"state": state, "traces": 0}
    if path is None:
        return info
    by_status: Counter[str] = Counter()
    by_mode: dict[str, Counter[str]] = {}
    # (mode, turn number) -> [correct, attempted]
    by_turn: dict[tuple[str, int], list[int]] = {}
    tokens = {"completion": 0, "verified_completion": 0}
    # Per status, the rows with the smallest hash of their id: a stable, unbiased sample.
    sample: dict[str, list[tuple[str, dict[str, Any]]]] = {s: [] for s in TRACE_STATUSES}
    from kodeio.synth.traces import TraceStats

    quality = TraceStats()  # only its pass-rate and language counts are used here
    seen_pairs: set[tuple[str, str]] = set()
    for lineno, row in _iter_rows(path, state):
        turns = row.get("turns")
        if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
            raise InputError(f"{path}:{lineno}: key 'turns' must be a list of objects")
        status = str(row.get("status"))
        mode = str(row.get("mode") or "unknown")
        info["traces"] += 1
        by_status[status] += 1
        by_mode.setdefault(mode, Counter())[status] += 1
        for number, turn in enumerate(turns, 1):
            verdict = turn.get("verdict") if isinstance(turn.get("verdict"), dict) else {}
            cell = by_turn.setdefault((mode, number), [0, 0])
            cell[1] += 1
            cell[0] += bool(verdict.get("correct"))
        quality.count_quality(row, seen_pairs)
        used = int((row.get("tokens") or {}).get("completion") or 0)
        tokens["completion"] += used
        if status.startswith("verified"):
            tokens["verified_completion"] += used
        bucket = sample.setdefault(status, [])
        key = _rank(str(row.get("id")))
        if len(bucket) < options.samples_per_status or key < bucket[-1][0]:
            bucket.append((key, row))
            bucket.sort(key=lambda kv: kv[0])
            del bucket[options.samples_per_status :]
    verified = by_status["verified_first"] + by_status["verified_revised"]
    info.update(
        by_status=dict(by_status),
        verified=verified,
        yield_rate=verified / info["traces"] if info["traces"] else 0.0,
        by_mode={
            mode: {
                "traces": sum(c.values()),
                "verified_first": c["verified_first"],
                "verified_revised": c["verified_revised"],
                "failed": c["failed"],
            }
            for mode, c in sorted(by_mode.items())
        },
        by_turn=[
            {"mode": mode, "turn": turn, "correct": ok, "attempted": n}
            for (mode, turn), (ok, n) in sorted(by_turn.items())
        ],
        tokens=tokens,
        tokens_per_verified=tokens["completion"] / verified if verified else None,
    )
    # Only runs with n_samples > 1 (difficulty) or reasoning_language ko (language) have them.
    if (difficulty := quality.difficulty_dict()) is not None:
        info["difficulty"] = difficulty
    if (language := quality.language_dict()) is not None:
        info["language"] = language
    chosen = [
        row
        for status in sorted(sample)
        for _, row in sorted(sample[status], key=lambda kv: str(kv[1].get("id")))
    ]
    pairs = lookup_pairs(run_dir, {str(row.get("pair_id")) for row in chosen})
    info["sample"] = [_sample_trace(row, pairs) for row in chosen]
    return info


def _sample_trace(row: dict[str, Any], pairs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    turns = []
    for turn in row.get("turns") or []:
        verdict = turn.get("verdict") if isinstance(turn.get("verdict"), dict) else {}
        turns.append(
            {
                "completion": _clip(turn.get("completion")),
                "answer": _clip(turn.get("answer"), 2000),
                "correct": bool(verdict.get("correct")),
                "reason": verdict.get("reason"),
                "produced": _clip(verdict.get("produced"), 2000),
                "error": _clip(verdict.get("error"), 2000),
                "feedback": _clip(turn.get("feedback"), 4000),
                "finish_reason": turn.get("finish_reason"),
            }
        )
    pair = pairs.get(str(row.get("pair_id")), {})
    return {
        "id": row.get("id"),
        "pair_id": row.get("pair_id"),
        "seed_id": row.get("seed_id") or pair.get("seed_id"),
        "mode": row.get("mode"),
        "status": row.get("status"),
        "model": row.get("model"),
        "language": row.get("reasoning_language"),
        "entry": row.get("entry") or pair.get("entry"),
        "code": pair.get("code"),
        "input_repr": pair.get("input_repr"),
        "output_repr": pair.get("output_repr"),
        "description": pair.get("description"),
        "turns": turns,
    }


def collect_training(run_dir: Path) -> dict[str, Any]:
    train = run_dir / "train"
    state_file = train / "trainer_state.json"
    if not state_file.is_file():
        # Trainers keep the state inside the last checkpoint; use the newest one.
        found = sorted(train.glob("checkpoint-*/trainer_state.json"), key=_checkpoint_step)
        state_file = found[-1] if found else state_file
    info: dict[str, Any] = {"state": "not run", "loss": [], "eval_loss": []}
    if state_file.is_file():
        state = _read_json(state_file)
        history = state.get("log_history") if isinstance(state, dict) else None
        if not isinstance(history, list):
            raise InputError(f"{state_file}: expected a 'log_history' list")
        for entry in history:
            if not isinstance(entry, dict) or "step" not in entry:
                continue
            if isinstance(entry.get("loss"), int | float):
                info["loss"].append([entry["step"], entry["loss"]])
            if isinstance(entry.get("eval_loss"), int | float):
                info["eval_loss"].append([entry["step"], entry["eval_loss"]])
        info.update(
            state="done",
            global_step=state.get("global_step"),
            max_steps=state.get("max_steps"),
            epoch=state.get("epoch"),
            source=str(state_file.relative_to(run_dir)),
        )
    png = train / "loss.png"
    if png.is_file():
        info["png"] = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
        if info["state"] == "not run":
            info["state"] = "done"
    adapter = next((p for p in (train / "adapter", train / "final") if p.is_dir()), None)
    if adapter is not None:
        info["adapter"] = str(adapter)
    return info


def collect_grpo(run_dir: Path, manifest: Any) -> dict[str, Any]:
    """The GRPO stage's reward and verified rate by step; "not run" when it did not run (or
    the last `kodeio run` passed over it, leaving an older run's files behind)."""
    grpo = run_dir / "grpo"
    info: dict[str, Any] = {"state": "not run", "reward": [], "verified_rate": []}
    stages = manifest.get("stages") if isinstance(manifest, dict) else None
    stage = stages.get("grpo") if isinstance(stages, dict) else None
    if isinstance(stage, dict) and stage.get("status") == "skipped":
        return info
    steps, state = _jsonl_source(grpo / "grpo_steps.jsonl")
    if steps is not None:
        for _, row in _iter_rows(steps, state):
            for key in ("reward", "verified_rate"):
                value = row.get(f"{key}_mean" if key == "reward" else key)
                if isinstance(value, int | float) and isinstance(row.get("step"), int):
                    info[key].append([row["step"], value])
        info["state"] = "done" if (grpo / "adapter").is_dir() else "partial"
    png = grpo / "reward.png"
    if png.is_file():
        info["png"] = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
        info["state"] = "done" if info["state"] == "not run" else info["state"]
    summary = grpo / "train_summary.json"
    if summary.is_file():
        data = _read_json(summary)
        keys = ("global_step", "prompts", "num_generations", "init_adapter", "backend")
        info.update({k: data.get(k) for k in keys} if isinstance(data, dict) else {})
    if (grpo / "adapter").is_dir():
        info["adapter"] = str(grpo / "adapter")
    return info


def _grpo_row(grpo: dict[str, Any]) -> dict[str, Any]:
    return {"name": "grpo", "state": grpo["state"], "count": grpo.get("global_step") or 0,
            "unit": "steps"}  # fmt: skip


def _checkpoint_step(path: Path) -> int:
    try:
        return int(path.parent.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def collect_evals(run_dir: Path) -> dict[str, Any]:
    root = run_dir / "eval"
    reports = []
    if root.is_dir():
        for path in sorted(root.rglob("*report.json")):
            report = _read_json(path)
            if not isinstance(report, dict) or not isinstance(report.get("metrics"), dict):
                raise InputError(f"{path}: expected an eval report with a 'metrics' object")
            model = report.get("model")
            reports.append(
                {
                    "path": str(path.relative_to(run_dir)),
                    # Where it sits tells runs apart (eval/before, eval/after) when the
                    # reports themselves share a name.
                    "label": _eval_label(path.relative_to(root)),
                    "name": report.get("name") or path.parent.name,
                    "kind": report.get("kind"),
                    "model": model.get("name") or model.get("path")
                    if isinstance(model, dict)
                    else model,
                    "created": report.get("created"),
                    "metrics": report["metrics"],
                    "intervals": report.get("intervals") or {},
                    "n": report.get("n") or {},
                    "counts": report.get("counts") or {},
                }
            )
    return {
        "state": "done" if reports else "not run",
        "reports": reports,
        "changes": eval_changes(root),
    }


def eval_changes(root: Path) -> list[dict[str, Any]]:
    """Base -> tuned for every metric both have (RUN/eval/base, RUN/eval/tuned), with the
    change's 95% interval; empty when the run has no such pair. With RUN/eval/grpo (the
    grpo stage) each row also has the grpo value, base -> grpo (`change_grpo`) and
    tuned -> grpo (`change_grpo_vs_tuned`)."""
    if not ((root / "base").is_dir() and (root / "tuned").is_dir()):
        return []
    from kodeio.eval.compare import change_text, collect, comparison_rows

    base, tuned = collect(root / "base", "base"), collect(root / "tuned", "tuned")
    grpo = collect(root / "grpo", "grpo") if (root / "grpo").is_dir() else None
    rows = []
    for name, a, b in comparison_rows(base, tuned):
        if a is None or b is None:
            continue
        row = {
            "metric": name,
            "base": a,
            "tuned": b,
            "n": base.sizes.get(name),
            "change": change_text(base, tuned, name),
        }
        if grpo is not None and name in grpo.metrics:
            row.update(
                grpo=grpo.metrics[name],
                change_grpo=change_text(base, grpo, name),
                change_grpo_vs_tuned=change_text(tuned, grpo, name),
            )
        rows.append(row)
    return rows


def _eval_label(relative: Path) -> str:
    if relative.name == "report.json":
        return str(relative.parent) if str(relative.parent) != "." else "eval"
    return str(relative)[: -len(".report.json")]


def collect_export(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "export" / "manifest.json"
    if not path.is_file():
        return {"state": "not run"}
    return {"state": "done", "manifest": _read_json(path)}


def collect_run(run_dir: Path, options: ReportOptions | None = None) -> dict[str, Any]:
    """Everything the page shows, as one JSON-able dict."""
    options = options or ReportOptions()
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: run directory not found")
    manifest_path = run_dir / "run.json"
    manifest = _read_json(manifest_path) if manifest_path.is_file() else None
    io_info = collect_io(run_dir)
    traces = collect_traces(run_dir, options)
    training = collect_training(run_dir)
    grpo = collect_grpo(run_dir, manifest)
    evals = collect_evals(run_dir)
    export = collect_export(run_dir)
    from kodeio import __version__

    return {
        "run_dir": str(run_dir.resolve()),
        "kodeio_version": __version__,
        "manifest": manifest,
        "stages": [
            {"name": "io", "state": io_info["state"], "count": io_info["pairs"], "unit": "pairs"},
            {
                "name": "synth",
                "state": traces["state"],
                "count": traces["traces"],
                "unit": "traces",
            },
            {
                "name": "train",
                "state": training["state"],
                "count": training.get("global_step") or 0,
                "unit": "steps",
            },
            # An optional stage: no row when it did not run.
            *([_grpo_row(grpo)] if grpo["state"] != "not run" else []),
            {
                "name": "eval",
                "state": evals["state"],
                "count": len(evals["reports"]),
                "unit": "reports",
            },
            {
                "name": "export",
                "state": export["state"],
                "count": len((export.get("manifest") or {}).get("files") or []),
                "unit": "files",
            },
        ],
        "io": io_info,
        "traces": traces,
        "training": training,
        "grpo": grpo,
        "evals": evals,
        "export": export,
    }


# ---- rendering ------------------------------------------------------------------------------


def embed_json(data: Any) -> str:
    """JSON that is safe inside a <script> element: no '<' can close the element early."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def render_report(data: dict[str, Any]) -> str:
    template = resources.files("kodeio").joinpath(f"templates/report/{TEMPLATE}").read_text("utf-8")
    if DATA_MARKER not in template:
        raise InputError(f"report template {TEMPLATE}: the data marker {DATA_MARKER} is missing")
    return template.replace(DATA_MARKER, embed_json(data), 1)


def write_report(
    run_dir: Path, output: Path | None = None, options: ReportOptions | None = None
) -> Path:
    """Collect the run and write the page atomically; returns its path."""
    output = Path(output) if output is not None else Path(run_dir) / "report.html"
    html = render_report(collect_run(Path(run_dir), options))
    atomic_write_text(output, html)
    output.chmod(0o644)  # a page to share or serve (the atomic temp file is created 0600)
    return output


def run_stage(config: ReportConfig) -> Path:
    return write_report(
        config.run_dir, config.output, ReportOptions(samples_per_status=config.samples_per_status)
    )


class ReportWiring(StageWiring):
    """The report stage in `kodeio run`: the whole run directory -> RUN/report.html."""

    name = "report"
    sections = ("report",)

    def configs(self, recipe: Recipe) -> dict[str, BaseModel]:
        sec = recipe.section("report")
        sec["run_dir"] = str(recipe.run)
        sec["output"] = str(recipe.run / "report.html")
        return {"report": recipe.validate(ReportConfig, sec, "report")}

    def outputs(self, run: Path) -> list[Path]:
        return [run / "report.html"]

    def execute(self, configs: dict[str, Any]) -> None:
        run_stage(configs["report"])

    def counts(self, run: Path) -> dict[str, Any]:
        return {"report": str(run / "report.html")}

    def result(self, counts: dict[str, Any]) -> str:
        return "report.html"

    def footer(self, run: Path, counts: dict[str, Any]) -> list[str]:
        report = run / "report.html"
        return [f"report:  {report}"] if report.is_file() else []

    def clean(self, run: Path) -> None:
        super().clean(run)
        (run / "report.html").unlink(missing_ok=True)
