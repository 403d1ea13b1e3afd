"""`kodeio plan`: check a recipe against a GPU before a long run (see docs/gpu.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kodeio.cli.options import SetOption


def plan(
    config: Annotated[
        Path,
        typer.Option("--config", "-c", help="Recipe YAML, e.g. configs/r1-distill-32b-ko.yaml."),
    ],
    set_: SetOption = None,
    gpu: Annotated[
        str | None, typer.Option("--gpu", help="A preset card: 4090, a100-80, h100, h200.")
    ] = None,
    vram_gb: Annotated[
        float | None, typer.Option("--vram-gb", help="Any card, by its memory in GiB.")
    ] = None,
    disk_gb: Annotated[
        float | None, typer.Option("--disk-gb", help="Free disk in GB (default: not checked).")
    ] = None,
    overhead_gb: Annotated[
        float, typer.Option("--overhead-gb", help="GiB per GPU process beyond weights and cache.")
    ] = 2.0,
    mean_fraction: Annotated[
        float, typer.Option("--mean-fraction", help="Mean completion as a share of max_tokens.")
    ] = 0.5,
) -> None:
    """Memory, KV cache, tokens/s, disk and hours for each stage of a recipe on one GPU.

    Without --gpu or --vram-gb the plan is for this machine's first CUDA GPU. Exits non-zero
    with one line when a stage will not fit or load, naming the closest setting that does.
    """
    from pydantic import ValidationError

    from kodeio.config import describe_validation_error
    from kodeio.errors import ConfigError
    from kodeio.plan.config import PlanConfig
    from kodeio.plan.stage import run_stage

    try:
        cfg = PlanConfig(
            recipe=config,
            overrides=set_ or [],
            gpu=gpu,
            vram_gb=vram_gb,
            disk_gb=disk_gb,
            overhead_gb=overhead_gb,
            mean_fraction=mean_fraction,
        )
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, "kodeio plan", "--")) from None
    run_stage(cfg)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
