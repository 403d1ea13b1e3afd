"""Benchmark: reading an AI Hub-style workbook, the brief's pandas way vs kodeio's stream.

Baseline: the project brief's loader done the economical way, `pd.read_excel(file,
usecols=['원문', '번역문'])` (openpyxl in normal mode; only the two columns become a
DataFrame). Ours: `kodeio data aihub` (read-only openpyxl, one row at a time, written to
JSONL). Each side runs in a fresh subprocess on the same generated file, `--rounds` times,
alternating which goes first; printed: wall seconds and peak RSS above the interpreter's
baseline per run, and the ratios of the medians.

    .venv/bin/python bench/data.py [--rows 50000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = ["ID", "대분류", "소분류", "상황", "Set Nr.", "발화자", "원문", "번역문"]

PROBE = """
import json, resource, sys, time
from pathlib import Path
mode, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "pandas":
    import pandas as pd
else:
    from kodeio.data.pairs import AihubConfig, run_stage
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if mode == "pandas":
    df = pd.read_excel(path, usecols=["원문", "번역문"])
    df.columns = ["ko", "en"]
    df.to_csv(out, index=False)
    rows = len(df)
else:
    run_stage(AihubConfig(inputs=[Path(path)], output=Path(out)))
    rows = sum(1 for _ in open(out, encoding="utf-8"))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": rows, "seconds": seconds, "rss_mb": (peak - base) / 1024}))
"""


def build_workbook(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sheet1")
    sheet.append(HEADER)
    for i in range(rows):
        sheet.append(
            [
                i,
                "일상",
                "쇼핑",
                "옷가게",
                i // 4,
                "손님",
                f"{i}번째 손님이 이 셔츠의 다른 색상이 있는지 물었습니다.",
                f"Customer number {i} asked whether this shirt comes in other colors.",
            ]
        )
    workbook.save(path)


def run(mode: str, path: Path, out: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(path), str(out)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2, help="runs per side, order alternating")
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"pandas": [], "kodeio": []}
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "aihub.xlsx"
        start = time.perf_counter()
        build_workbook(book, args.rows)
        print(
            f"workbook: {args.rows:,} rows x {len(HEADER)} columns, "
            f"{book.stat().st_size / 2**20:.1f} MB, built in {time.perf_counter() - start:.1f} s"
        )
        for r in range(args.rounds):
            order = ("pandas", "kodeio") if r % 2 == 0 else ("kodeio", "pandas")
            for mode in order:
                res = run(mode, book, Path(tmp) / f"{mode}.out")
                assert res["rows"] == args.rows, (mode, res)
                runs[mode].append(res)
                print(
                    f"round {r + 1} {mode:7s} {res['seconds']:8.1f} s {res['rss_mb']:8.0f} MB",
                    flush=True,
                )
    base = {k: statistics.median(x[k] for x in runs["pandas"]) for k in ("seconds", "rss_mb")}
    ours = {k: statistics.median(x[k] for x in runs["kodeio"]) for k in ("seconds", "rss_mb")}
    print(f"{'median of ' + str(args.rounds):24}{'seconds':>10}{'peak RSS MB':>14}")
    print(f"{'pandas.read_excel':24}{base['seconds']:>10.1f}{base['rss_mb']:>14.0f}")
    print(f"{'kodeio data aihub':24}{ours['seconds']:>10.1f}{ours['rss_mb']:>14.0f}")
    print(
        f"ratio (pandas / kodeio): time {base['seconds'] / ours['seconds']:.2f}x, "
        f"memory {base['rss_mb'] / max(ours['rss_mb'], 1):.1f}x"
    )


if __name__ == "__main__":
    main()
