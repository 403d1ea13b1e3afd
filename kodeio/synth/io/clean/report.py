"""The summary table `kodeio io clean` prints: per benchmark and method, checked and removed."""

from __future__ import annotations

from rich.table import Table

from kodeio.progress import console
from kodeio.synth.io.clean.stage import CleanStats

METHODS = ("exact", "io", "ngram", "minhash")


def print_summary(stats: CleanStats) -> None:
    table = Table(title=f"io clean: {stats.output}")
    table.add_column("against")
    table.add_column("functions", justify="right")
    table.add_column("method")
    table.add_column("checked", justify="right")
    table.add_column("removed", justify="right")
    checked = stats.seeds_read - stats.unparsable
    removed = stats.counts()["removed"]
    for source, size in stats.benchmarks.items():
        for method in METHODS:
            n = removed.get(source, {}).get(method, 0)
            table.add_row(source, str(size), method, str(checked), str(n))
    for method in ("exact", "minhash"):
        n = removed.get("seeds", {}).get(method, 0)
        table.add_row("seeds (duplicates)", str(checked), method, str(checked), str(n))
    console.print(table)
    counts = stats.counts()
    line = (
        f"{stats.seeds_read} seeds: [bold]{stats.kept} kept[/], {counts['duplicate']} duplicate, "
        f"{counts['contaminated']} contaminated"
    )
    if stats.unparsable:
        line += f", {stats.unparsable} not Python (kept for io to reject)"
    console.print(line + f"; removed: {stats.removed_file}")
