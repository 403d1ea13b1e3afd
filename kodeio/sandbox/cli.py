"""`kodeio sandbox ...` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kodeio.cli.options import ConfigOption, SetOption

sandbox_app = typer.Typer(
    help="Run untrusted Python functions in the sandbox (bubblewrap + seccomp + rlimits, fork server).",
    no_args_is_help=True,
)


@sandbox_app.command("run")
def run(
    jobs: Annotated[
        Path,
        typer.Argument(
            help="JSONL of jobs: {id, code, entry, input}; input is {args, kwargs} or call-args source."
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Results JSONL, one row per job, in job order.")
    ],
    timeout: Annotated[
        float | None, typer.Option(help="CPU seconds per execution (default 5).")
    ] = None,
    memory_mb: Annotated[
        int | None, typer.Option(help="Address space per execution in MB (default 1024).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Fork-server workers (default: CPU count).")
    ] = None,
    isolation: Annotated[
        str | None, typer.Option(help="bwrap (default) or process (no bubblewrap: weaker).")
    ] = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Execute every job in JOBS and write exactly one result per job to OUTPUT."""
    from kodeio.config import load_config
    from kodeio.sandbox.stage import SandboxRunConfig, run_stage

    cfg = load_config(
        SandboxRunConfig,
        config,
        set_,
        values={
            "jobs": str(jobs),
            "output": str(output),
            "sandbox.timeout": timeout,
            "sandbox.memory_mb": memory_mb,
            "sandbox.workers": workers,
            "sandbox.isolation": isolation,
        },
        section="sandbox_run",
    )
    if cfg.sandbox.isolation == "process":
        from kodeio.progress import console

        console.print(
            "[bold yellow]warning:[/] isolation=process: no bubblewrap, so no filesystem, network "
            "or PID namespaces; only rlimits, seccomp and a dropped uid protect this machine."
        )
    path = run_stage(cfg)
    from kodeio.sandbox.report import print_summary

    print_summary(path)


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")
