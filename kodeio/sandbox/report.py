"""Console summary of a results file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.table import Table

from kodeio.files import iter_jsonl
from kodeio.progress import console


def print_summary(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter(row.get("status", "?") for _, row in iter_jsonl(path))
    table = Table(title=f"sandbox results: {path}")
    table.add_column("status")
    table.add_column("count", justify="right")
    for status, n in counts.most_common():
        table.add_row(status, str(n))
    table.add_row("[bold]total", f"[bold]{sum(counts.values())}")
    console.print(table)
    return counts
