"""The summary table `kodeio io run` prints at the end."""

from __future__ import annotations

from rich.table import Table

from kodeio.progress import console
from kodeio.synth.io.stage import IoStats


def print_summary(stats: IoStats) -> None:
    table = Table(title=f"io: {stats.output}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("seeds read", str(stats.seeds_read))
    if stats.resumed_seeds:
        table.add_row("  already done (resumed)", str(stats.resumed_seeds))
    table.add_row("seeds with pairs", str(stats.seeds_with_pairs))
    table.add_row("[bold]pairs kept", f"[bold]{stats.pairs_kept}")
    table.add_row("nondeterministic seeds", str(stats.nondeterministic_seeds))
    table.add_row("recorded labels that did not reproduce", str(stats.reference_mismatches))
    total = sum(stats.rejects_by_reason.values())
    table.add_row(f"[bold]rejects[/] ({stats.rejects})", f"[bold]{total}")
    for reason, n in sorted(stats.rejects_by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(f"  {reason}", str(n))
    console.print(table)
