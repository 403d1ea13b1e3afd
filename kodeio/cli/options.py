"""Options every stage command shares, so flags read the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="YAML config: a stage config, or a recipe whose section for this stage is used.",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override any config key: --set a.b=value (repeatable; value parsed as YAML)."
    ),
]
ShardOption = Annotated[
    str | None,
    typer.Option(
        help="K/N: this machine's share of the inputs; join the shards with kodeio merge."
    ),
]
RayOption = Annotated[
    str | None,
    typer.Option(
        "--ray",
        help="ADDRESS|auto: run batches as Ray tasks on a cluster (auto: attach or start local).",
    ),
]
