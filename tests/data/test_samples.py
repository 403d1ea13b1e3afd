"""The shipped quickstart samples, and the data CLI's help staying light."""

from __future__ import annotations

import json
import subprocess
import sys

from kodeio.cli import main
from kodeio.data.samples import AIHUB_TSV, AIHUB_XLSX, KORMEDMCQA, SAMPLE_DIR, read_tsv, sample_path


def test_aihub_sample_xlsx_matches_its_tsv_source():
    from openpyxl import load_workbook

    rows = read_tsv(SAMPLE_DIR / AIHUB_TSV)
    header, body = rows[0], rows[1:]
    assert header == ["ID", "대분류", "소분류", "상황", "Set Nr.", "발화자", "원문", "번역문"]
    assert len(body) >= 80
    assert len({r[6] for r in body}) == len(body) and all(r[6] and r[7] for r in body)
    workbook = load_workbook(sample_path(AIHUB_XLSX), read_only=True)
    sheet_rows = [
        [("" if v is None else str(v)) for v in row]
        for row in workbook.active.iter_rows(values_only=True)
    ]
    workbook.close()
    assert sheet_rows == rows, "rebuild the xlsx: python -m kodeio.data.samples"


def test_kormedmcqa_sample_is_well_formed():
    rows = [
        json.loads(line)
        for line in sample_path(KORMEDMCQA).read_text(encoding="utf-8").splitlines()
    ]
    assert len(rows) >= 30
    assert len({r["question"] for r in rows}) == len(rows)
    for row in rows:
        assert row["answer"] in "ABCDE" and all(row[letter].strip() for letter in "ABCDE")
        assert len({row[letter] for letter in "ABCDE"}) == 5
    assert sum(1 for r in rows if r.get("cot")) >= 10


def test_samples_command_and_quickstart_path(tmp_path, capsys):
    assert main(["data", "samples", str(tmp_path / "s")]) == 0
    xlsx = tmp_path / "s" / AIHUB_XLSX
    assert xlsx.is_file() and (tmp_path / "s" / KORMEDMCQA).is_file()
    out = tmp_path / "pairs.jsonl"
    assert main(["data", "aihub", str(xlsx), "-o", str(out)]) == 0
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first == {
        "ko": "이 셔츠 다른 색상도 있나요?",
        "en": "Do you have this shirt in other colors?",
        "source": "aihub_ko_en_sample.xlsx:대화체:2",
    }


def test_data_help_is_light():
    code = (
        "import sys; from kodeio.cli import main\n"
        "for cmd in (['data', '--help'], ['data', 'mix', '--help'], ['data', 'aihub', '--help']):\n"
        "    assert main(cmd) == 0\n"
        "heavy = [m for m in ('torch', 'transformers', 'datasets', 'openpyxl', 'datasketch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_example_mix_config_validates():
    from pathlib import Path

    from kodeio.config import load_config
    from kodeio.data.mix import MixConfig

    root = Path(__file__).resolve().parents[2]
    cfg = load_config(MixConfig, root / "configs/examples/mix.yaml", values={"output": "runs/mix"})
    assert [s.name for s in cfg.sources] == ["codeio", "aihub-ko-en", "kormedmcqa"]
    assert cfg.length.max_tokens == 4096
