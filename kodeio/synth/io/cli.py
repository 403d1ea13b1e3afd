"""`kodeio io ...` commands: seeds to ground-truth (input, output) pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kodeio.cli.options import ConfigOption, RayOption, SetOption, ShardOption

io_app = typer.Typer(
    help="Seeds (CodeI/O, CRUXEval, kodeio JSONL, .py code, HF datasets) to verified I/O pairs.",
    no_args_is_help=True,
)


@io_app.command("run")
def run(
    seeds: Annotated[
        list[Path] | None,
        typer.Argument(help="Seed JSONL files, .py files or directories of Python code."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="IO.jsonl to write.")
    ] = None,
    per_seed: Annotated[
        int | None, typer.Option("--per-seed", help="Inputs per seed at most (default 3).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Sandbox workers per pool (default: CPU count).")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="CPU seconds per execution (default 5).")
    ] = None,
    seed_format: Annotated[
        str | None,
        typer.Option("--format", help="auto (default), codeio, cruxeval, kodeio or py."),
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Rejects JSONL (default: OUTPUT with .rejects.jsonl).")
    ] = None,
    hf_dataset: Annotated[
        str | None,
        typer.Option("--hf-dataset", help="A dataset on disk or in the HF cache (offline)."),
    ] = None,
    split: Annotated[str | None, typer.Option(help="Dataset split (default train).")] = None,
    code_field: Annotated[
        str | None,
        typer.Option("--code-field", help="Dataset field with Python source (default code)."),
    ] = None,
    shard: ShardOption = None,
    ray: RayOption = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Execute every seed on its inputs twice, keep what is deterministic and small, write IO.jsonl."""
    from kodeio.config import load_config
    from kodeio.synth.io.config import IoConfig
    from kodeio.synth.io.report import print_summary
    from kodeio.synth.io.stage import run_io

    cfg = load_config(
        IoConfig,
        config,
        set_,
        values={
            "seeds": [str(p) for p in seeds] if seeds else None,
            "output": str(output) if output else None,
            "rejects": str(rejects) if rejects else None,
            "per_seed": per_seed,
            "sandbox.workers": workers,
            "sandbox.timeout": timeout,
            "format": seed_format,
            "hf_dataset": hf_dataset,
            "hf_split": split,
            "hf_code_field": code_field,
            "shard": shard,
            "ray": ray,
        },
        section="io",
    )
    print_summary(run_io(cfg))


@io_app.command("validate-seeds")
def validate_seeds(
    seeds: Annotated[
        Path | None,
        typer.Argument(help="kodeio seed JSONL to check (default: the shipped quickstart corpus)."),
    ] = None,
) -> None:
    """Run each seed in the sandbox; list seeds that are nondeterministic, too big or too few."""
    from kodeio.errors import KodeioError
    from kodeio.synth.io.seeds.corpus import quickstart_path
    from kodeio.synth.io.seeds.validate import validate_file

    path = seeds or quickstart_path()
    if validate_file(path):
        raise KodeioError(f"{path}: some seeds have problems (listed above)")


def register(app: typer.Typer) -> None:
    app.add_typer(io_app, name="io")
