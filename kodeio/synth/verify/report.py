"""The summary `kodeio verify` prints: accuracy per mode, and counts by mode and reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from rich.table import Table


def summarize(rows: Iterable[dict[str, Any]]) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    """(count per (mode, reason), rows per mode)."""
    by_reason: Counter[tuple[str, str]] = Counter()
    by_mode: Counter[str] = Counter()
    for row in rows:
        mode = str(row.get("mode", "?"))
        by_reason[(mode, str(row.get("reason")))] += 1
        by_mode[mode] += 1
    return by_reason, by_mode


def summary_table(rows: Iterable[dict[str, Any]], title: str = "verdicts") -> Table:
    by_reason, by_mode = summarize(rows)
    table = Table(title=title)
    table.add_column("mode")
    table.add_column("reason")
    table.add_column("count", justify="right")
    table.add_column("share of mode", justify="right")
    for mode in sorted(by_mode):
        reasons = sorted(
            ((r, n) for (m, r), n in by_reason.items() if m == mode), key=lambda x: (-x[1], x[0])
        )
        for reason, n in reasons:
            table.add_row(mode, reason, str(n), f"{100 * n / by_mode[mode]:.1f}%")
        correct = by_reason[(mode, "match")]
        table.add_row(
            f"[bold]{mode}[/]",
            "[bold]accuracy[/]",
            f"[bold]{correct}/{by_mode[mode]}[/]",
            f"[bold]{100 * correct / by_mode[mode]:.1f}%[/]",
            end_section=True,
        )
    return table


def print_summary(rows: Iterable[dict[str, Any]]) -> None:
    from kodeio.progress import console

    console.print(summary_table(rows))
