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
        typer.Option("--from", help="First stage: io, synth, data, train, eval, export, report."),
    ] = None,
    stop: Annotated[str | None, typer.Option("--to", help="Last stage to run.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Rerun the selected stages even if up to date.")
    ] = False,
) -> None:
    """Seeds -> I/O pairs -> verified traces -> mix -> train -> eval -> export -> report.

    Every output goes under the recipe's run_dir (--set run_dir=DIR). Finished stages whose
    config did not change are skipped, so rerunning the same command resumes.
    """
    from kodeio.pipeline import print_summary, run_pipeline

    manifest = run_pipeline(config, set_, start=start, stop=stop, force=force)
    print_summary(manifest)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
