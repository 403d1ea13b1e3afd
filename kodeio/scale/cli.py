"""`kodeio merge SHARD_OUTPUT... -o OUT`: shards of a `--shard K/N` run into the single-run file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def merge_command(
    shards: Annotated[
        list[Path], typer.Argument(help="The outputs of every shard K/N of one run, any order.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The merged output to write.")],
    rejects: Annotated[
        Path | None,
        typer.Option(help="Merged rejects (io; default: OUTPUT with .rejects.jsonl)."),
    ] = None,
) -> None:
    """Merge shard outputs into exactly the file one machine would have written."""
    from kodeio.progress import console
    from kodeio.scale.merge import merge_shards

    result = merge_shards(shards, output, rejects)
    text = f"merged {result.shards} shards: {result.rows} rows -> {result.output}"
    if result.rejects is not None:
        text += f", {result.rejected} rejects -> {result.rejects}"
    console.print(text, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("merge")(merge_command)
