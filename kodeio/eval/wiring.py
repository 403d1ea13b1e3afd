"""The eval stage in `kodeio run`: the base model and the tuned one (RUN/train/adapter) on up
to three evals, then RUN/eval/compare.png. When the grpo stage is enabled, the GRPO model
(RUN/grpo/adapter) is a third, labelled `grpo`: all three from one engine, each compared
with base, and grpo with tuned.

Its side effects, both in RUN/eval: the I/O pairs synthesis did not use become the held-out
I/O eval (`io_heldout.jsonl`), and the MCQA rows the mix trained on are cut from the MCQA
eval (`mcqa_heldout.jsonl`, `eval.mcqa.skip_first`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kodeio.errors import ConfigError, InputError
from kodeio.files import atomic_write_text
from kodeio.wiring import Recipe, StageWiring, count_lines, find_path, read_marker

EVAL_KINDS = ("io", "translate", "mcqa")
LABELS = ("base", "tuned")
GRPO = "grpo"  # the third model's label, with the grpo stage
# (from, to) of every change reported: each model against base, and grpo against tuned.
CHANGES = {"change": ("base", "tuned"), "change_grpo": ("base", GRPO),
           "change_grpo_vs_tuned": ("tuned", GRPO)}  # fmt: skip


def labels_of(configs: dict[str, Any]) -> list[str]:
    """The models a stage's configs evaluate, in order (base, tuned[, grpo])."""
    return list(dict.fromkeys(key.split(".", 1)[0] for key in configs))


class EvalWiring(StageWiring):
    name = "eval"
    sections = ("eval",)

    def configs(self, recipe: Recipe) -> dict[str, BaseModel]:
        """Two suites (base, tuned), three with grpo, of up to three evals each, keyed
        `base.io`, `tuned.mcqa`, `grpo.translate`."""
        from kodeio.eval.config import IoEvalConfig, McqaEvalConfig, TranslateEvalConfig

        models = {"io": IoEvalConfig, "translate": TranslateEvalConfig, "mcqa": McqaEvalConfig}
        run = recipe.run
        sec = recipe.section("eval")
        shared = {k: v for k, v in sec.items() if k not in EVAL_KINDS}
        # Canned completions (a script) stand in for the model: none to prepare.
        shared["model"] = None if shared.get("script") else recipe.model(shared)
        models_of = {"base": None, "tuned": run / "train" / "adapter"}
        if recipe.enabled(GRPO):
            models_of[GRPO] = run / "grpo" / "adapter"
        out: dict[str, BaseModel] = {}
        for kind in EVAL_KINDS:
            own = sec.get(kind)
            if not isinstance(own, dict):
                continue
            own = dict(own)
            if kind == "io":
                own["data"] = str(run / "eval" / "io_heldout.jsonl")
            elif kind == "translate":
                own["data"] = str(run / "data" / "mix")
                if "sources" not in own:
                    pair_sources = [
                        s["name"]
                        for s in recipe.section("data_mix").get("sources") or []
                        if isinstance(s, dict) and s.get("kind") == "pairs"
                    ]
                    own["sources"] = pair_sources or None
            elif own.get("data"):
                own["data"] = str(find_path(own["data"]))
            skip = int(own.pop("skip_first", 0) or 0)
            if kind == "mcqa" and skip:
                # The first rows went into the training mix (its source `limit`): score the rest.
                heldout = run / "eval" / "mcqa_heldout.jsonl"
                if recipe.live:
                    _write_tail(Path(own["data"]), skip, heldout)
                own["data"] = str(heldout)
            for label, adapter in models_of.items():
                data = {**shared, **own, "name": label}
                data["adapter"] = str(adapter) if adapter else None
                data["output_dir"] = str(run / "eval" / label / kind)
                data.pop("run_dir", None)
                out[f"{label}.{kind}"] = recipe.validate(models[kind], data, f"eval.{kind}")
        if not out:
            raise ConfigError(f"{recipe.source}: 'eval' needs at least one of io, translate, mcqa")
        return out

    def outputs(self, run: Path) -> list[Path]:
        return [run / "eval" / "compare.png"]

    def execute(self, configs: dict[str, Any]) -> None:
        from kodeio.eval.compare import run_compare
        from kodeio.eval.suite import run_suites
        from kodeio.progress import console

        _write_heldout_pairs(configs)
        labels = labels_of(configs)
        suites = []
        for label in labels:
            suite = [
                (k.split(".", 1)[1], c) for k, c in configs.items() if k.split(".", 1)[0] == label
            ]
            io_cfg = next((c for k, c in suite if k == "io"), None)
            if io_cfg is not None and count_lines(Path(io_cfg.data)) == 0:
                suite = [(k, c) for k, c in suite if k != "io"]
                console.print("[yellow]no held-out I/O pairs (raise io.per_seed); io eval skipped")
            suites.append(suite)
        # One engine for every model where the backend serves adapters per request (vllm).
        run_suites(suites, on_suite=lambda i: console.print(f"[bold]eval: {labels[i]} model[/]"))
        first = next(iter(configs.values()))
        root = Path(first.output_dir).parent.parent
        if GRPO not in labels:
            run_compare(root / "base", root / "tuned", root / "compare.png", "base", "tuned")
            return
        from kodeio.eval.compare import collect, plot_runs, print_table

        runs = {label: collect(root / label, label) for label in labels}
        for a, b in CHANGES.values():
            print_table(runs[a], runs[b])
        plot_runs(list(runs.values()), root / "compare.png")

    def counts(self, run: Path) -> dict[str, Any]:
        """Each model's metrics (as before), plus their 95% intervals, item counts and the
        change from base to tuned with its interval; with grpo also base -> grpo
        (`change_grpo`) and tuned -> grpo (`change_grpo_vs_tuned`)."""
        from kodeio.eval.compare import change_text, collect

        labels = [*LABELS, GRPO] if (run / "eval" / GRPO).is_dir() else list(LABELS)
        runs = {label: collect(run / "eval" / label, label) for label in labels}
        changes = {}
        for key, (a, b) in CHANGES.items():
            if a in runs and b in runs:
                first, second = runs[a], runs[b]
                changes[key] = {
                    k: change_text(first, second, k) for k in first.metrics if k in second.metrics
                }
        return {
            **{label: r.metrics for label, r in runs.items()},
            "intervals": {
                label: {k: list(pair) for k, pair in r.intervals.items()}
                for label, r in runs.items()
            },
            "n": runs["base"].sizes,
            **changes,
        }

    def result(self, counts: dict[str, Any]) -> str:
        base, tuned = counts.get("base") or {}, counts.get("tuned") or {}
        intervals = counts.get("intervals") or {}
        sizes, change = counts.get("n") or {}, counts.get("change") or {}

        def value(label: str, metrics: dict[str, float], key: str) -> str:
            if key not in metrics:
                return "-"
            pair = (intervals.get(label) or {}).get(key)
            return f"{metrics[key]:.1f}" + (f" [{pair[0]:.1f}, {pair[1]:.1f}]" if pair else "")

        # Headline metrics (0-100): before -> after, each with its 95% interval, then the
        # change, which says "no measurable change" when its interval covers zero.
        keys = [k for k in base if k.endswith(("/accuracy", "/pass@1", "/chrF"))]
        grpo = counts.get(GRPO)
        if grpo is None:
            return "\n".join(
                f"{k} (n={sizes.get(k, '?')}): {value('base', base, k)} → "
                f"{value('tuned', tuned, k)}; {change.get(k) or 'change: -'}"
                for k in keys
            )
        to_grpo = counts.get("change_grpo") or {}
        over_tuned = counts.get("change_grpo_vs_tuned") or {}
        return "\n".join(
            f"{k} (n={sizes.get(k, '?')}): base {value('base', base, k)} → "
            f"tuned {value('tuned', tuned, k)} → grpo {value(GRPO, grpo, k)}; "
            f"tuned {change.get(k) or '-'}; grpo {to_grpo.get(k) or '-'}; "
            f"grpo vs tuned {over_tuned.get(k) or '-'}"
            for k in keys
        )


def _write_tail(source: Path, skip: int, dest: Path) -> None:
    if not source.is_file():
        raise InputError(f"{source}: eval.mcqa.skip_first needs a JSONL file")
    rows = [r for r in source.read_text(encoding="utf-8").splitlines() if r.strip()]
    if len(rows) <= skip:
        raise ConfigError(
            f"eval.mcqa.skip_first: {skip} leaves none of {source}'s {len(rows)} rows"
        )
    atomic_write_text(dest, "".join(r + "\n" for r in rows[skip:]))


def _write_heldout_pairs(configs: dict[str, Any]) -> None:
    """I/O pairs synthesis did not use (past synth.max_pairs) become the held-out I/O eval,
    less the pairs of a seed synthesis also had pairs of: a seed whose pairs straddle the cut
    would put a training function in the eval. The io stage's clean step already dropped
    repeated seeds, so a seed's own id and file:line are what is left to compare."""
    io_cfg = next((c for k, c in configs.items() if k.endswith(".io")), None)
    if io_cfg is None:
        return
    run = Path(io_cfg.data).parent.parent
    marker = read_marker(run, "synth") or {}
    skip = ((marker.get("config") or {}).get("synth") or {}).get("max_pairs") or 0
    rows = (run / "io" / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    trained = {_seed_of(r) for r in rows[:skip] if r.strip()}
    held = [r for r in rows[skip:] if r.strip() and _seed_of(r) not in trained]
    atomic_write_text(Path(io_cfg.data), "".join(r + "\n" for r in held))


def _seed_of(row: str) -> tuple[str, str]:
    data = json.loads(row)
    return str(data.get("seed_id")), str(data.get("source"))
