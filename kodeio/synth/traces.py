"""Reading trace files: statistics (`kodeio synth stats`) and SFT export (`kodeio synth export`).

Rows of runs with `sampling.n_samples > 1` carry `pass_rate`, `band` and `category`
(kodeio/synth/difficulty.py); rows of `reasoning_language: ko` runs carry `language`
(kodeio/synth/language.py). Both are counted here and carried into the export.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kodeio.errors import InputError
from kodeio.files import atomic_path, dumps, iter_jsonl
from kodeio.synth.difficulty import BANDS
from kodeio.synth.language import is_mismatch
from kodeio.synth.revision import (
    STATUSES,
    multi_turn_messages,
    sample_from_row,
    single_response_messages,
)

TRACE_KEYS = ("id", "mode", "status", "turns", "messages")
Style = Literal["multi", "single"]


def iter_traces(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for lineno, row in iter_jsonl(path, required=TRACE_KEYS):
        where = f"{path}:{lineno}"
        if row["status"] not in STATUSES:
            raise InputError(
                f"{where}: key 'status' must be one of {', '.join(STATUSES)}, got {row['status']!r}"
            )
        if not isinstance(row["turns"], list) or not row["turns"]:
            raise InputError(f"{where}: key 'turns' must be a non-empty list")
        yield where, row


@dataclass
class TraceStats:
    traces: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    # (mode, turn) -> [correct, attempted]
    by_turn: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    by_mode: dict[str, list[int]] = field(default_factory=dict)  # mode -> [verified, traces]
    completion_tokens: int = 0
    prompt_tokens: int = 0
    verified_completion_tokens: int = 0
    # Why failed traces failed: their last turn's verdict reason (truncated, no_answer, ...).
    failure_reasons: dict[str, int] = field(default_factory=dict)
    # Verified traces by the turn that got them right (1: first answer, 2: first revision...).
    verified_by_turn: dict[int, int] = field(default_factory=dict)
    # Pass-rate histograms, one count per (pair, mode): mode -> rate -> pairs, and
    # category -> rate -> pairs (both modes). Empty unless the rows carry `pass_rate`.
    pass_rate_by_mode: dict[str, dict[float, int]] = field(default_factory=dict)
    pass_rate_by_category: dict[str, dict[float, int]] = field(default_factory=dict)
    band_by_mode: dict[str, dict[str, int]] = field(default_factory=dict)
    # Korean traces: their Hangul share in tenths (0..9, 9 includes 1.0), Han, mismatches.
    language_measured: int = 0
    hangul_share_tenths: dict[int, int] = field(default_factory=dict)
    with_han: int = 0
    language_mismatch: int = 0

    @property
    def verified(self) -> int:
        return self.by_status.get("verified_first", 0) + self.by_status.get("verified_revised", 0)

    @property
    def yield_rate(self) -> float:
        return self.verified / self.traces if self.traces else 0.0

    @property
    def tokens_per_verified(self) -> float | None:
        """All completion tokens spent (failures too) per verified sample: the real cost."""
        return self.completion_tokens / self.verified if self.verified else None

    def difficulty_dict(self) -> dict[str, Any] | None:
        if not self.pass_rate_by_mode:
            return None

        def hist(counts: dict[float, int]) -> dict[str, int]:
            return {f"{rate:g}": n for rate, n in sorted(counts.items())}

        return {
            "pass_rate_by_mode": {m: hist(c) for m, c in sorted(self.pass_rate_by_mode.items())},
            "pass_rate_by_category": {
                c: hist(h) for c, h in sorted(self.pass_rate_by_category.items())
            },
            "band_by_mode": {
                m: {b: c.get(b, 0) for b in BANDS} for m, c in sorted(self.band_by_mode.items())
            },
        }

    def language_dict(self) -> dict[str, Any] | None:
        if not self.language_measured:
            return None
        return {
            "measured": self.language_measured,
            "hangul_share": {
                f"{t / 10:.1f}-{(t + 1) / 10:.1f}": self.hangul_share_tenths.get(t, 0)
                for t in range(10)
            },
            "with_han": self.with_han,
            "language_mismatch": self.language_mismatch,
        }

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if (difficulty := self.difficulty_dict()) is not None:
            extra["difficulty"] = difficulty
        if (language := self.language_dict()) is not None:
            extra["language"] = language
        return {
            "traces": self.traces,
            "verified": self.verified,
            "yield": round(self.yield_rate, 4),
            "by_status": dict(self.by_status),
            "failure_reasons": dict(
                sorted(self.failure_reasons.items(), key=lambda kv: (-kv[1], kv[0]))
            ),
            "accuracy_by_turn": {
                f"{mode}#{turn}": {
                    "correct": c,
                    "attempted": n,
                    "accuracy": round(c / n, 4) if n else None,
                }
                for (mode, turn), (c, n) in sorted(self.by_turn.items())
            },
            "yield_by_mode": {
                mode: {"verified": v, "traces": n, "yield": round(v / n, 4) if n else None}
                for mode, (v, n) in sorted(self.by_mode.items())
            },
            "tokens": {
                "prompt": self.prompt_tokens,
                "completion": self.completion_tokens,
                "completion_per_verified": round(self.tokens_per_verified, 1)
                if self.tokens_per_verified is not None
                else None,
                "completion_of_verified_traces": self.verified_completion_tokens,
            },
            **extra,
        }

    def count_quality(self, row: dict[str, Any], seen_pairs: set[tuple[str, str]]) -> None:
        """Count the row's pass rate (once per (pair, mode), via `seen_pairs`) and language."""
        rate = row.get("pass_rate")
        key = (str(row.get("pair_id")), str(row["mode"]))
        if isinstance(rate, int | float) and key not in seen_pairs:
            seen_pairs.add(key)  # one count per (pair, mode), whichever sample comes first
            rate = float(rate)
            by_mode = self.pass_rate_by_mode.setdefault(row["mode"], {})
            by_mode[rate] = by_mode.get(rate, 0) + 1
            category = str(row.get("category") or "(none)")
            by_cat = self.pass_rate_by_category.setdefault(category, {})
            by_cat[rate] = by_cat.get(rate, 0) + 1
            bands = self.band_by_mode.setdefault(row["mode"], {})
            band = str(row.get("band"))
            bands[band] = bands.get(band, 0) + 1
        language = row.get("language")
        if isinstance(language, dict) and isinstance(language.get("hangul_share"), int | float):
            self.language_measured += 1
            tenth = min(9, int(float(language["hangul_share"]) * 10))
            self.hangul_share_tenths[tenth] = self.hangul_share_tenths.get(tenth, 0) + 1
            self.with_han += int(bool(language.get("han_chars")))
            self.language_mismatch += int(is_mismatch(row))


def compute_stats(path: Path) -> TraceStats:
    st = TraceStats()
    seen_pairs: set[tuple[str, str]] = set()
    for _, row in iter_traces(path):
        st.traces += 1
        status = row["status"]
        st.by_status[status] = st.by_status.get(status, 0) + 1
        verified = status != "failed"
        mode_counts = st.by_mode.setdefault(row["mode"], [0, 0])
        mode_counts[0] += int(verified)
        mode_counts[1] += 1
        for i, turn in enumerate(row["turns"], 1):
            counts = st.by_turn.setdefault((row["mode"], i), [0, 0])
            counts[0] += int(bool(turn.get("verdict", {}).get("correct")))
            counts[1] += 1
        tokens = row.get("tokens") or {}
        st.completion_tokens += int(tokens.get("completion", 0))
        st.prompt_tokens += int(tokens.get("prompt", 0))
        st.count_quality(row, seen_pairs)
        if verified:
            st.verified_completion_tokens += int(tokens.get("completion", 0))
            turn = len(row["turns"])
            st.verified_by_turn[turn] = st.verified_by_turn.get(turn, 0) + 1
        else:
            reason = str((row["turns"][-1].get("verdict") or {}).get("reason") or "unknown")
            st.failure_reasons[reason] = st.failure_reasons.get(reason, 0) + 1
    return st


def _keep(
    where: str, row: dict[str, Any], pass_rate: tuple[float, float] | None, keep_mismatch: bool
) -> bool:
    if is_mismatch(row) and not keep_mismatch:
        return False
    if pass_rate is None:
        return True
    rate = row.get("pass_rate")
    if not isinstance(rate, int | float):
        raise InputError(
            f"{where}: no 'pass_rate' on the row; --pass-rate needs traces from a run with "
            "synth.sampling.n_samples > 1"
        )
    lo, hi = pass_rate
    return lo <= rate <= hi


def export_rows(
    path: Path,
    style: Style = "multi",
    include_failed: bool = False,
    pass_rate: tuple[float, float] | None = None,
    keep_language_mismatch: bool = False,
) -> Iterator[dict[str, Any]]:
    """SFT rows {id, messages, source, mode, turn}, plus the trace's `pass_rate`, `band` and
    `language` where it has them. `turn` counts the assistant turns the row trains on (1: the
    first answer, 2: after one revision), so the mix and the trainer can report lengths by it. `pass_rate=(lo, hi)` keeps pairs with lo <= pass rate <= hi;
    verified Korean traces marked `language_mismatch` are left out unless kept."""
    for where, row in iter_traces(path):
        if row["status"] == "failed" and not include_failed:
            continue
        if not _keep(where, row, pass_rate, keep_language_mismatch):
            continue
        sample = sample_from_row(row)
        multi = multi_turn_messages(sample)
        messages = single_response_messages(sample) if style == "single" else multi
        turn = sum(1 for m in multi if m["role"] == "assistant")
        out = {
            "id": row["id"],
            "messages": messages,
            "source": "codeio",
            "mode": str(row["mode"]),
            "turn": turn,
        }
        for key in QUALITY_KEYS:
            if key in row:
                out[key] = row[key]
        yield out


# Trace-row fields an export row carries along (where present) for the mix and its card.
QUALITY_KEYS = ("pass_rate", "band", "language")


def export(
    path: Path,
    out: Path,
    style: Style = "multi",
    include_failed: bool = False,
    pass_rate: tuple[float, float] | None = None,
    keep_language_mismatch: bool = False,
) -> tuple[int, Path]:
    """Write SFT conversations as JSONL (`*.jsonl`) or a `datasets` dataset on disk (a dir).

    A dataset directory also gets a README.md card when the traces carry a pass rate or a
    language measure: the difficulty histogram, the verified yield per turn, the language
    distribution (kodeio/synth/card.py)."""
    rows = export_rows(path, style, include_failed, pass_rate, keep_language_mismatch)
    if out.suffix == ".jsonl":
        n = 0
        with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(dumps(row) + "\n")
                n += 1
        return n, out
    import datasets

    data = list(rows)
    columns: dict[str, Any] = {
        "id": datasets.Value("string"),
        "messages": [{"role": datasets.Value("string"), "content": datasets.Value("string")}],
        "source": datasets.Value("string"),
        "mode": datasets.Value("string"),
        "turn": datasets.Value("int64"),
    }
    quality = {
        "pass_rate": datasets.Value("float64"),
        "band": datasets.Value("string"),
        "language": {
            "hangul_share": datasets.Value("float64"),
            "han_chars": datasets.Value("int64"),
            "mismatch": datasets.Value("bool"),
        },
    }
    for key in QUALITY_KEYS:
        if any(key in row for row in data):
            columns[key] = quality[key]
            for row in data:
                row.setdefault(key, None)
    dataset = datasets.Dataset.from_list(data, features=datasets.Features(columns))
    # Save beside the target and swap in, so a failed export never leaves half a dataset.
    tmp = out.with_name(out.name + ".tmp-export")
    shutil.rmtree(tmp, ignore_errors=True)
    dataset.save_to_disk(str(tmp))
    st = compute_stats(path)
    if st.difficulty_dict() is not None or st.language_dict() is not None:
        from kodeio.synth.card import render_export_card

        card = render_export_card(
            {**st.to_dict(), "verified_by_turn": st.verified_by_turn},
            len(data),
            keep_language_mismatch,
        )
        (tmp / "README.md").write_text(card, encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return len(data), out
