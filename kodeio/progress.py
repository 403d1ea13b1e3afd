"""Rich progress bars that degrade to nothing when stdout is not a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


@contextmanager
def progress_bar(
    description: str, total: int | None, enabled: bool | None = None
) -> Iterator[Progress]:
    """A progress bar with one task; `.update(task_id, advance=...)` via `bar.advance(0)`."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )
    with progress:
        progress.add_task(description, total=total, info="")
        yield progress
