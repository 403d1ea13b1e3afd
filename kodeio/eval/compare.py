"""`kodeio eval compare RUN_A RUN_B`: every metric of two runs in a table and a bar chart.

A run is a report file, a directory holding `report.json`, or a directory tree of eval
reports (e.g. a recipe's `RUN_DIR/eval/`). Metrics are matched by name; a metric only one
run has is shown with a blank on the other side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kodeio.eval.config import CompareConfig
from kodeio.eval.report import find_reports, read_report
from kodeio.eval.stats import describe_change


@dataclass
class RunMetrics:
    label: str
    metrics: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    sizes: dict[str, int]
    reports: list[Path]


def collect(target: Path, label: str | None = None) -> RunMetrics:
    metrics: dict[str, float] = {}
    intervals: dict[str, tuple[float, float]] = {}
    sizes: dict[str, int] = {}
    reports = find_reports(target)
    names = set()
    for path in reports:
        report = read_report(path)
        model = report.get("model") or {}
        if isinstance(model, dict) and model.get("label"):
            names.add(str(model["label"]))
        for key, value in report["metrics"].items():
            if isinstance(value, int | float):
                metrics[key] = float(value)
        for key, pair in (report.get("intervals") or {}).items():
            if isinstance(pair, list) and len(pair) == 2:
                intervals[key] = (float(pair[0]), float(pair[1]))
        for key, n in (report.get("n") or {}).items():
            if isinstance(n, int) and not isinstance(n, bool):
                sizes[key] = n
    if label is None:
        label = names.pop() if len(names) == 1 else Path(target).name
    return RunMetrics(label, metrics, intervals, sizes, reports)


def comparison_rows(a: RunMetrics, b: RunMetrics) -> list[tuple[str, float | None, float | None]]:
    names = list(a.metrics)
    names += [k for k in b.metrics if k not in a.metrics]
    return [(k, a.metrics.get(k), b.metrics.get(k)) for k in names]


def _fmt(run: RunMetrics, name: str) -> str:
    """'12.50 [8.1, 18.7] n=64': the value, its 95% interval and its item count."""
    value = run.metrics.get(name)
    if value is None:
        return "-"
    text = f"{value:.2f}"
    if name in run.intervals:
        lo, hi = run.intervals[name]
        text += f" [{lo:.1f}, {hi:.1f}]"
    if name in run.sizes:
        text += f" n={run.sizes[name]}"
    return text


def change_text(a: RunMetrics, b: RunMetrics, name: str) -> str:
    """The change from a to b with its 95% interval, or "no measurable change"."""
    va, vb = a.metrics.get(name), b.metrics.get(name)
    if va is None or vb is None:
        return ""
    return describe_change(va, a.intervals.get(name), vb, b.intervals.get(name))


def print_table(a: RunMetrics, b: RunMetrics) -> None:
    from rich.console import Console
    from rich.table import Table

    from kodeio.progress import console

    table = Table(
        title="kodeio eval compare (0-100, higher is better; [95% interval], n = items)",
        caption="change: B - A with a conservative 95% interval (the runs taken as independent)",
    )
    table.add_column("metric")
    table.add_column(a.label, justify="right")
    table.add_column(b.label, justify="right")
    table.add_column("change", justify="right")
    for name, _, _ in comparison_rows(a, b):
        change = change_text(a, b, name)
        style = {"up": "green", "down": "red"}.get(change.rsplit(": ", 1)[-1], "")
        table.add_row(
            name, _fmt(a, name), _fmt(b, name), f"[{style}]{change}[/]" if style else change
        )
    # Logs and pipes get whole rows; a terminal keeps its own width.
    (console if console.is_terminal else Console(stderr=True, width=160)).print(table)


def plot(a: RunMetrics, b: RunMetrics, output: Path) -> Path:
    """A grouped bar chart, one pair of bars per metric, with 95% intervals as error bars."""
    return plot_runs([a, b], output)


COLORS = ("#8c8c8c", "#1f77b4", "#ff7f0e", "#2ca02c")


def plot_runs(runs: list[RunMetrics], output: Path) -> Path:
    """`plot` for any number of runs (base, tuned, grpo): one bar per run and metric."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a display
    import matplotlib.pyplot as plt

    from kodeio.files import atomic_path

    names = list(dict.fromkeys(k for run in runs for k in run.metrics))
    width = 0.76 / len(runs)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(runs) * len(names) + 2), 4.5))
    xs = range(len(names))
    for i, run in enumerate(runs):
        offset = (i - (len(runs) - 1) / 2) * width
        heights = [run.metrics.get(name, 0.0) for name in names]
        errors: list[list[float]] = [[], []]
        for name, h in zip(names, heights, strict=True):
            lo, hi = run.intervals.get(name, (h, h))
            errors[0].append(max(0.0, h - lo))
            errors[1].append(max(0.0, hi - h))
        bars = ax.bar(
            [x + offset for x in xs],
            heights,
            width,
            yerr=errors,
            capsize=3,
            label=run.label,
            color=COLORS[i % len(COLORS)],
        )
        for bar, name in zip(bars, names, strict=True):
            if name in run.metrics:
                ax.annotate(
                    f"{run.metrics[name]:.1f}",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    ax.set_xticks(list(xs))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("score (0-100)")
    ax.set_title(" vs ".join(run.label for run in runs))
    ax.legend()
    fig.tight_layout()
    output = Path(output)
    with atomic_path(output) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return output


def run_compare(
    run_a: Path,
    run_b: Path,
    output: Path | None = None,
    label_a: str | None = None,
    label_b: str | None = None,
) -> tuple[RunMetrics, RunMetrics, Path]:
    a = collect(run_a, label_a)
    b = collect(run_b, label_b)
    if a.label == b.label:
        a.label, b.label = f"A: {a.label}", f"B: {b.label}"
    if output is None:
        base = Path(run_b) if Path(run_b).is_dir() else Path(run_b).parent
        output = base / "compare.png"
    print_table(a, b)
    return a, b, plot(a, b, output)


def run_stage(config: CompareConfig) -> Path:
    """Print the comparison table; return the path of the PNG chart."""
    _, _, png = run_compare(
        config.run_a, config.run_b, config.output, config.label_a, config.label_b
    )
    return png


def print_report(path: Path) -> None:
    """A short table of one report's metrics (what every eval command prints at the end)."""
    from rich.table import Table

    from kodeio.progress import console

    report: dict[str, Any] = read_report(path)
    table = Table(title=f"{report.get('name', 'eval')} ({path})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("95% interval", justify="right")
    for name, value in report["metrics"].items():
        pair = (report.get("intervals") or {}).get(name)
        span = f"[{pair[0]:.1f}, {pair[1]:.1f}]" if pair else ""
        table.add_row(name, f"{value:.2f}", span)
    console.print(table)
