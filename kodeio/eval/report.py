"""The one JSON report every eval writes, and the helpers that find and read reports.

A report is `{"kind", "name", "created", "kodeio_version", "model", "data", "config",
"counts", "metrics", "intervals", "n"}`. `metrics` maps a metric name to a number on a 0-100
scale; `intervals` maps the same names to `[low, high]` 95% intervals where one exists
(Wilson for rates, bootstrap over sentences for chrF and BLEU); `n` to the number of items
(problems, questions, sentences) each metric was measured on.
`kodeio eval compare` needs only `metrics`, so any eval, present or future, is comparable.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.files import atomic_write_text

REPORT_NAME = "report.json"
REPORT_SUFFIX = ".report.json"


def content_key(*parts: Any) -> str:
    """A stable hash of JSON-able parts: the resume key of one item or check."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Path, size and sha256 of a data file, so a report says exactly what it measured."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"path": str(path), "bytes": Path(path).stat().st_size, "sha256": digest.hexdigest()}


def build_report(
    kind: str,
    name: str,
    *,
    model: dict[str, Any] | None,
    data: dict[str, Any],
    config: dict[str, Any],
    counts: dict[str, Any],
    metrics: dict[str, float],
    intervals: dict[str, tuple[float, float]] | None = None,
    sizes: dict[str, int] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from kodeio import __version__

    return {
        "kind": kind,
        "name": name,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "kodeio_version": __version__,
        "model": model,
        "data": data,
        "config": config,
        "counts": counts,
        "metrics": {k: round(float(v), 6) for k, v in metrics.items()},
        "intervals": {
            k: [round(float(lo), 6), round(float(hi), 6)]
            for k, (lo, hi) in (intervals or {}).items()
        },
        "n": dict(sizes or {}),
        **(extra or {}),
    }


def write_report(path: Path, report: dict[str, Any]) -> Path:
    atomic_write_text(path, json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    return path


def read_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: report not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a JSON report ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise InputError(f"{path}: not a kodeio eval report (expected an object with 'metrics')")
    return data


def find_reports(target: Path) -> list[Path]:
    """Reports under a run: a report file itself, `DIR/report.json`, or every report below DIR."""
    target = Path(target)
    if target.is_file():
        return [target]
    if not target.is_dir():
        raise InputError(f"{target}: no such run directory or report file")
    direct = target / REPORT_NAME
    if direct.is_file():
        return [direct]
    found = sorted(
        p for p in target.rglob("*.json") if p.name == REPORT_NAME or p.name.endswith(REPORT_SUFFIX)
    )
    if not found:
        raise InputError(
            f"{target}: no eval reports found (expected {REPORT_NAME} or *{REPORT_SUFFIX} below it)"
        )
    return found
