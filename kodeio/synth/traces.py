"""Reading trace files: statistics (`kodeio synth stats`) and SFT export (`kodeio synth export`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kodeio.errors import InputError
from kodeio.files import atomic_path, dumps, iter_jsonl
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

    def to_dict(self) -> dict[str, Any]:
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
        }


def compute_stats(path: Path) -> TraceStats:
    st = TraceStats()
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
        if verified:
            st.verified_completion_tokens += int(tokens.get("completion", 0))
        else:
            reason = str((row["turns"][-1].get("verdict") or {}).get("reason") or "unknown")
            st.failure_reasons[reason] = st.failure_reasons.get(reason, 0) + 1
    return st


def export_rows(
    path: Path, style: Style = "multi", include_failed: bool = False
) -> Iterator[dict[str, Any]]:
    for _, row in iter_traces(path):
        if row["status"] == "failed" and not include_failed:
            continue
        sample = sample_from_row(row)
        if style == "single":
            messages = single_response_messages(sample)
        else:
            messages = multi_turn_messages(sample)
        yield {"id": row["id"], "messages": messages, "source": "codeio"}


def export(
    path: Path, out: Path, style: Style = "multi", include_failed: bool = False
) -> tuple[int, Path]:
    """Write SFT conversations as JSONL (`*.jsonl`) or a `datasets` dataset on disk (a dir)."""
    rows = export_rows(path, style, include_failed)
    if out.suffix == ".jsonl":
        n = 0
        with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(dumps(row) + "\n")
                n += 1
        return n, out
    import datasets

    data = list(rows)
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "messages": [{"role": datasets.Value("string"), "content": datasets.Value("string")}],
            "source": datasets.Value("string"),
        }
    )
    dataset = datasets.Dataset.from_list(data, features=features)
    # Save beside the target and swap in, so a failed export never leaves half a dataset.
    tmp = out.with_name(out.name + ".tmp-export")
    shutil.rmtree(tmp, ignore_errors=True)
    dataset.save_to_disk(str(tmp))
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return len(data), out
