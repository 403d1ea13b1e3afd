"""Quickstart samples written for this project (not copied from AI Hub or KorMedMCQA).

- `aihub_ko_en_sample.tsv`: 84 Korean-English dialogue turns in the AI Hub dialogue layout
  (ID, 대분류, 소분류, 상황, Set Nr., 발화자, 원문, 번역문). It is the reviewable source of
- `aihub_ko_en_sample.xlsx`, rebuilt with `python -m kodeio.data.samples` (sheet "대화체").
- `kormedmcqa_sample.jsonl`: Korean medical multiple-choice questions in the KorMedMCQA
  layout (question, A-E, answer letter, `cot` on some rows).
"""

from __future__ import annotations

import csv
import shutil
from importlib import resources
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent
AIHUB_TSV = "aihub_ko_en_sample.tsv"
AIHUB_XLSX = "aihub_ko_en_sample.xlsx"
KORMEDMCQA = "kormedmcqa_sample.jsonl"
SHEET_NAME = "대화체"


def read_tsv(path: Path) -> list[list[str]]:
    with path.open("r", encoding="utf-8", newline="") as fh:
        return [row for row in csv.reader(fh, delimiter="\t") if row]


def build_aihub_xlsx(tsv: Path, xlsx: Path) -> Path:
    """Write the TSV as an AI Hub-style workbook (header row 1; ID and Set Nr. as numbers)."""
    from openpyxl import Workbook

    rows = read_tsv(tsv)
    header, body = rows[0], rows[1:]
    numeric = {i for i, name in enumerate(header) if name in ("ID", "Set Nr.")}
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAME
    sheet.append(header)
    for row in body:
        sheet.append([int(v) if i in numeric else v for i, v in enumerate(row)])
    for column, width in zip("ABCDEFGH", (6, 8, 8, 12, 7, 8, 50, 60), strict=True):
        sheet.column_dimensions[column].width = width
    xlsx.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(xlsx)
    return xlsx


def sample_path(name: str) -> Path:
    return Path(str(resources.files("kodeio.data.samples").joinpath(name)))


def copy_samples(out_dir: Path) -> list[Path]:
    """Copy the shipped sample files into `out_dir` (for the quickstart)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in (AIHUB_XLSX, KORMEDMCQA):
        target = out_dir / name
        shutil.copyfile(sample_path(name), target)
        written.append(target)
    return written
