"""Tables printed by `kodeio synth run` and `kodeio synth stats`."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table

from kodeio.progress import console
from kodeio.synth.traces import TraceStats


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f}%" if den else "-"


def print_stats(st: TraceStats, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(st.to_dict(), ensure_ascii=False, indent=2))
        return
    table = Table(
        title=f"{st.traces} traces, {st.verified} verified ({_pct(st.verified, st.traces)} yield)"
    )
    table.add_column("mode")
    table.add_column("turn", justify="right")
    table.add_column("correct", justify="right")
    table.add_column("attempted", justify="right")
    table.add_column("accuracy", justify="right")
    for (mode, turn), (correct, attempted) in sorted(st.by_turn.items()):
        table.add_row(mode, str(turn), str(correct), str(attempted), _pct(correct, attempted))
    console.print(table)
    status = ", ".join(f"{k} {v}" for k, v in sorted(st.by_status.items()))
    console.print(f"status: {status}", highlight=False)
    for mode, (verified, n) in sorted(st.by_mode.items()):
        console.print(f"yield {mode}: {verified}/{n} ({_pct(verified, n)})", highlight=False)
    if st.failure_reasons:
        reasons = sorted(st.failure_reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        console.print(
            "failed traces, by their last turn's reason: "
            + ", ".join(f"{name} {n}" for name, n in reasons),
            highlight=False,
        )
    _print_difficulty(st)
    _print_language(st)
    per = st.tokens_per_verified
    console.print(
        f"completion tokens: {st.completion_tokens}; per verified sample: {per:.1f}"
        if per is not None
        else f"completion tokens: {st.completion_tokens}; per verified sample: - (none verified)",
        highlight=False,
    )


def _print_difficulty(st: TraceStats) -> None:
    difficulty = st.difficulty_dict()
    if difficulty is None:
        return
    for title, hists in (
        ("mode", difficulty["pass_rate_by_mode"]),
        ("seed category", difficulty["pass_rate_by_category"]),
    ):
        rates = sorted({r for hist in hists.values() for r in hist}, key=float)
        table = Table(title=f"pass rate by {title} (pairs)")
        table.add_column(title)
        for rate in rates:
            table.add_column(rate, justify="right")
        for name, hist in hists.items():
            table.add_row(name, *(str(hist.get(r, 0)) for r in rates))
        console.print(table)
    for mode, bands in difficulty["band_by_mode"].items():
        console.print(
            f"bands {mode}: " + ", ".join(f"{b} {n}" for b, n in bands.items()), highlight=False
        )


def _print_language(st: TraceStats) -> None:
    language = st.language_dict()
    if language is None:
        return
    table = Table(title="Hangul share of the reasoning (Korean traces)")
    table.add_column("share")
    table.add_column("traces", justify="right")
    for span, n in language["hangul_share"].items():
        table.add_row(span, str(n))
    console.print(table)
    console.print(
        f"language: {language['measured']} measured, {language['with_han']} with Han "
        f"characters, {language['language_mismatch']} verified but language_mismatch "
        "(left out of export and mix unless kept)",
        highlight=False,
    )


def print_run_summary(config: Any, stats: Any) -> None:
    from kodeio.synth.traces import compute_stats

    console.print(
        f"synth: {stats.generated_requests} requests generated, {stats.replayed_requests} "
        f"replayed from the journal, {stats.resumed} samples already done; "
        f"engine start {stats.load_seconds:.1f} s, then busy "
        f"{100 * stats.engine_busy_share:.0f}% of {stats.wall_seconds:.1f} s"
        + (f"; {stats.retries} requests retried" if stats.retries else ""),
        highlight=False,
    )
    print_stats(compute_stats(config.output))
    console.print(f"traces: {config.output}", highlight=False)
