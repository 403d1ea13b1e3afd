"""`kodeio eval score-cruxeval`: published CRUXEval generations -> the official scored JSON.

Writes three files: OUTPUT (the official shape: raw_generations, raw_scored_generations,
pass_at_1, pass_at_5), OUTPUT's `.report.json` (the kodeio report, with intervals and
counts) and OUTPUT's `.checks.jsonl` (one verdict per distinct executed program, the
resume cache: a rerun after a kill, or on overlapping generations, executes only what
is new).
"""

from __future__ import annotations

import json
from pathlib import Path

from kodeio.eval.config import CruxevalScoreConfig
from kodeio.eval.cruxeval import (
    CheckCache,
    infer_mode,
    load_generations,
    load_samples,
    score_generations,
    summarize,
)
from kodeio.eval.report import build_report, file_fingerprint, write_report
from kodeio.eval.stats import score_interval
from kodeio.files import atomic_write_text
from kodeio.progress import progress_bar


def sidecar(output: Path, suffix: str) -> Path:
    name = output.name[: -len(".json")] if output.name.endswith(".json") else output.name
    return output.with_name(name + suffix)


def run_stage(config: CruxevalScoreConfig) -> Path:
    from kodeio.sandbox import Sandbox

    mode = config.mode or infer_mode(config.generations)
    samples = load_samples(config.data)
    raw, generations = load_generations(config.generations, len(samples))
    total = sum(len(g) for g in generations)
    cache = CheckCache(sidecar(config.output, ".checks.jsonl"))
    try:
        with (
            progress_bar(f"cruxeval {mode}", total=None) as bar,
            Sandbox(config.sandbox) as sandbox,
        ):
            scores, counts = score_generations(
                samples,
                generations,
                mode,
                sandbox,
                config.timeout,
                cache=cache,
                progress=lambda n, total: bar.update(0, advance=n, total=total),
            )
        cache.finish()
    finally:
        cache.close()
    metrics = summarize(scores)
    scored = {
        "raw_generations": raw,
        "raw_scored_generations": {s.key: scores[s.index] for s in samples},
        "pass_at_1": metrics["pass_at_1"],
        "pass_at_5": metrics["pass_at_5"],
    }
    atomic_write_text(config.output, json.dumps(scored))
    per_problem = [r.count(True) / len(r) if r else 1.0 for r in scores]
    lo, hi = score_interval(per_problem)
    report = build_report(
        "cruxeval_score",
        f"cruxeval-{mode}",
        model={"label": config.generations.stem, "generations": str(config.generations)},
        data=file_fingerprint(config.data),
        config=config.model_dump(mode="json"),
        counts={"samples": len(samples), "generations": total, "mode": mode, **counts},
        metrics={
            f"cruxeval-{mode}/pass@1": metrics["pass_at_1"],
            f"cruxeval-{mode}/pass@5": metrics["pass_at_5"],
        },
        intervals={f"cruxeval-{mode}/pass@1": (lo * 100, hi * 100)},
        sizes={f"cruxeval-{mode}/pass@{k}": len(scores) for k in (1, 5)},
    )
    write_report(sidecar(config.output, ".report.json"), report)
    return config.output
