"""`kodeio merge SHARD_OUTPUT... -o OUT`: shards of a `--shard K/N` run into the single-run file.

The registry below is the one place that knows which stage merges how: `kodeio.scale.merge`
checks and dispatches without knowing any stage, and each stage keeps its merger beside its
code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kodeio.scale.merge import Merger

# A shard's stage (from its sidecar or ledger) -> the function that joins its shards.
MERGERS = {
    "io": Merger("kodeio.synth.io.merge:merge_shards", rejects=True),
    "verify": Merger("kodeio.scale.merge:merge_rows"),
    "synth": Merger("kodeio.scale.merge:merge_rows"),
    "aihub": Merger("kodeio.data.pairs:merge_shards"),
    "hf": Merger("kodeio.data.hf:merge_shards"),
    "mix": Merger("kodeio.data.mix:merge_shards"),
}
# Reads a shard that has no sidecar: the ledger `io run --shard` keeps beside its output.
LEDGER_READER = "kodeio.synth.io.merge:read_ledger"


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
    from kodeio.scale.merge import load, merge_shards

    result = merge_shards(shards, output, rejects, MERGERS, load(LEDGER_READER))
    text = f"merged {result.shards} shards: {result.rows} rows -> {result.output}"
    if result.rejects is not None:
        text += f", {result.rejected} rejects -> {result.rejects}"
    console.print(text, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("merge")(merge_command)
