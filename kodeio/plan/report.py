"""One stage's plan: its figures with their arithmetic, notes, and the problems that stop it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kodeio.plan.arithmetic import Figure


@dataclass
class StageReport:
    stage: str
    model: str | None = None
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Each is one line: "<stage>: what does not fit or load; the closest setting that does".
    problems: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def figure(self, label_start: str) -> Figure | None:
        return next((f for f in self.figures if f.label.startswith(label_start)), None)


def render(reports: list[StageReport], header: str, say: Callable[[str], None]) -> None:
    say(header)
    for rep in reports:
        mark = "✗" if rep.problems else "✓"
        say(f"\n{mark} {rep.stage}" + (f" · {rep.model}" if rep.model else ""))
        for fig in rep.figures:
            say(f"    {fig.text()}")
        for note in rep.notes:
            say(f"    note: {note}")
        for problem in rep.problems:
            say(f"    ✗ {problem}")
