"""`kodeio run`: the whole pipeline from one recipe (see kodeio/pipeline.py, docs/pipeline.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kodeio.cli.options import SetOption


def run(
    config: Annotated[
        Path,
        typer.Option(
            "--config",
            "-c",
            help="Recipe YAML, e.g. configs/quickstart-cpu.yaml (one section per stage).",
        ),
    ],
    set_: SetOption = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="First stage: io, synth, data, train, grpo, eval, export, report."
        ),
    ] = None,
    stop: Annotated[str | None, typer.Option("--to", help="Last stage to run.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Rerun the selected stages even if up to date.")
    ] = False,
    skip_plan: Annotated[
        bool, typer.Option("--skip-plan", help="On a GPU, do not run `kodeio plan` first.")
    ] = False,
) -> None:
    """Seeds -> I/O pairs -> verified traces -> mix -> train [-> grpo] -> eval -> export -> report.

    Every output goes under the recipe's run_dir (--set run_dir=DIR). Finished stages whose
    config did not change are skipped, so rerunning the same command resumes.
    """
    from kodeio.pipeline import print_summary, run_pipeline

    if not skip_plan:
        plan_on_this_gpu(config, set_, start, stop)
    manifest = run_pipeline(config, set_, start=start, stop=stop, force=force)
    print_summary(manifest)


def plan_on_this_gpu(
    config: Path, overrides: list[str] | None, start: str | None, stop: str | None
) -> None:
    """`kodeio plan` for this machine's GPU before any stage starts; a problem in a selected
    stage stops the run with its one line (docs/gpu.md). CPU-only machines skip it without
    importing torch: no NVIDIA driver, no plan."""
    import shutil

    if not (Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi")):
        return
    from kodeio.plan.hardware import detect

    if detect() is None:  # torch.cuda.is_available() is False
        return
    from kodeio.pipeline import STAGES
    from kodeio.plan.config import PlanConfig
    from kodeio.plan.stage import run_stage

    first = STAGES.index(start) if start in STAGES else 0
    last = STAGES.index(stop) if stop in STAGES else len(STAGES) - 1
    run_stage(
        PlanConfig(
            recipe=config,
            overrides=overrides or [],
            this_machine=True,
            stages=list(STAGES[first : last + 1]),
            skip_unknown_models=True,
        )
    )


def register(app: typer.Typer) -> None:
    app.command("run")(run)
