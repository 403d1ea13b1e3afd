"""`kodeio verify PRED.jsonl -o VERDICTS.jsonl`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kodeio.cli.options import ConfigOption, RayOption, SetOption, ShardOption


def verify_command(
    predictions: Annotated[
        Path,
        typer.Argument(
            help="JSONL of predictions: id, code, entry, mode, input, output, prediction."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Verdicts JSONL: id, correct, reason, produced (+ details)."
        ),
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Row layout: kodeio (default), codeio (CodeI/O names, JSON values) or "
            "cruxeval (Python source, CRUXEval's scorer semantics).",
        ),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(help="output or input, for rows without a 'mode' (e.g. CRUXEval rows)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Sandbox workers (default: CPU count).")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="CPU seconds per execution (default 5).")
    ] = None,
    shard: ShardOption = None,
    ray: RayOption = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Judge predictions by execution: extract each answer, run input predictions in the
    sandbox, compare by value, write one verdict per row and print a summary."""
    from kodeio.config import load_config
    from kodeio.synth.verify.config import VerifyRunConfig

    cfg = load_config(
        VerifyRunConfig,
        config,
        set_,
        values={
            "predictions": str(predictions),
            "output": str(output),
            "format": fmt,
            "mode": mode,
            "sandbox.workers": workers,
            "sandbox.timeout": timeout,
            "shard": shard,
            "ray": ray,
        },
        section="verify",
    )
    from kodeio.files import iter_jsonl
    from kodeio.progress import console
    from kodeio.synth.verify.report import print_summary
    from kodeio.synth.verify.stage import run_stage

    if cfg.sandbox.isolation == "process":
        console.print(
            "[bold yellow]warning:[/] sandbox.isolation=process: no bubblewrap, so no "
            "filesystem, network or PID namespaces for the predicted inputs being run."
        )
    path = run_stage(cfg)
    print_summary(row for _, row in iter_jsonl(path))
    console.print(f"verdicts: {path}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_command)
