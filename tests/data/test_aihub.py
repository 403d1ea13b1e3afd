"""`kodeio data aihub`: AI Hub workbooks (and CSV/JSONL) -> pairs.jsonl."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kodeio.cli import main
from kodeio.data.pairs import AihubConfig, run_stage, stats_path
from kodeio.errors import InputError


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_directory_of_workbooks_in_both_layouts(aihub_dir, tmp_path):
    out = run_stage(AihubConfig(inputs=[aihub_dir], output=tmp_path / "pairs.jsonl"))
    rows = read_rows(out)
    assert rows == [
        {
            "ko": "이 셔츠 얼마예요?",
            "en": "How much is this shirt?",
            "source": "01_dialogue.xlsx:대화체 Sheet:2",
        },
        {
            "ko": "삼만 원입니다.",
            "en": "It's thirty thousand won.",
            "source": "01_dialogue.xlsx:대화체 Sheet:3",
        },
        {
            "ko": "포장해 드릴까요?",
            "en": "Would you like it to go?",
            "source": "01_dialogue.xlsx:대화체 Sheet:7",
        },
        {"ko": "저는 학생입니다.", "en": "I am a student.", "source": "02_plain.xlsx:Sheet1:2"},
        {"ko": "내일 봐요.", "en": "See you tomorrow.", "source": "02_plain.xlsx:Sheet1:3"},
    ]
    stats = json.loads(stats_path(out).read_text(encoding="utf-8"))
    assert (stats["written"], stats["blank"], stats["ko_only"], stats["en_only"]) == (5, 2, 1, 1)
    by_file = {f["file"]: f for f in stats["files"]}
    assert by_file["02_plain.xlsx"]["sheets"] == ["Sheet1"]  # the notes sheet has no columns


def test_named_sheet_and_wrong_sheet(aihub_dir, tmp_path):
    workbook = aihub_dir / "02_plain.xlsx"
    out = run_stage(AihubConfig(inputs=[workbook], output=tmp_path / "p.jsonl", sheet="Sheet1"))
    assert len(read_rows(out)) == 2
    with pytest.raises(
        InputError, match=r"02_plain\.xlsx: no sheet 'Data' \(sheets: notes, Sheet1\)"
    ):
        run_stage(AihubConfig(inputs=[workbook], output=tmp_path / "q.jsonl", sheet="Data"))
    with pytest.raises(
        InputError, match=r"missing column.*sheet 'notes' has: 이 시트는 설명입니다"
    ):
        run_stage(AihubConfig(inputs=[workbook], output=tmp_path / "q.jsonl", sheet="notes"))
    assert not (tmp_path / "q.jsonl").exists()


def test_custom_column_names(tmp_path, write_xlsx):
    book = write_xlsx(tmp_path / "x.xlsx", {"s": [["korean", "english"], ["안녕", "hi"]]})
    out = run_stage(
        AihubConfig(
            inputs=[book], output=tmp_path / "p.jsonl", ko_column="korean", en_column=" english "
        )
    )
    assert read_rows(out)[0]["en"] == "hi"


def test_missing_column_and_corrupt_file_write_nothing(aihub_dir, tmp_path, write_xlsx):
    bad_dir = tmp_path / "in"
    bad_dir.mkdir()
    (bad_dir / "a.xlsx").write_bytes((aihub_dir / "01_dialogue.xlsx").read_bytes())
    write_xlsx(bad_dir / "b.xlsx", {"Sheet1": [["ID", "원문", "영문"], [1, "안녕", "hi"]]})
    out = tmp_path / "pairs.jsonl"
    out.write_text("old\n")
    with pytest.raises(InputError) as err:
        run_stage(AihubConfig(inputs=[bad_dir], output=out))
    message = str(err.value)
    assert "b.xlsx" in message and "'번역문'" in message and "영문" in message
    assert out.read_text() == "old\n"  # the first file's rows never reached the output
    assert list(tmp_path.glob(".pairs.jsonl.*")) == []

    corrupt = tmp_path / "corrupt.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(InputError, match=r"corrupt\.xlsx: not a readable \.xlsx workbook"):
        run_stage(AihubConfig(inputs=[corrupt], output=tmp_path / "c.jsonl"))
    assert not (tmp_path / "c.jsonl").exists()


def test_csv_tsv_and_jsonl_inputs(tmp_path):
    csv_path = tmp_path / "a.csv"
    csv_path.write_text(
        'ID,번역문,원문\n1,"Hello, world",안녕하세요\n2,,혼자\n', encoding="utf-8-sig"
    )
    tsv_path = tmp_path / "b.tsv"
    tsv_path.write_text("원문\t번역문\n고마워요\tThank you\n", encoding="utf-8")
    jsonl_path = tmp_path / "c.jsonl"
    jsonl_path.write_text(
        '{"원문": "네", "번역문": "Yes"}\n{"ko": "x", "en": ""}\n', encoding="utf-8"
    )
    out = run_stage(
        AihubConfig(inputs=[csv_path, tsv_path, jsonl_path], output=tmp_path / "p.jsonl")
    )
    assert read_rows(out) == [
        {"ko": "안녕하세요", "en": "Hello, world", "source": "a.csv:2"},
        {"ko": "고마워요", "en": "Thank you", "source": "b.tsv:2"},
        {"ko": "네", "en": "Yes", "source": "c.jsonl:1"},
    ]


def test_cp949_csv_is_rejected_then_read_with_its_encoding(tmp_path):
    path = tmp_path / "windows.csv"
    path.write_bytes("원문,번역문\n안녕하세요,Hello\n".encode("cp949"))
    with pytest.raises(InputError, match=r"windows\.csv: not valid utf-8-sig text.*cp949"):
        run_stage(AihubConfig(inputs=[path], output=tmp_path / "p.jsonl"))
    assert not (tmp_path / "p.jsonl").exists()
    out = run_stage(AihubConfig(inputs=[path], output=tmp_path / "p.jsonl", encoding="cp949"))
    assert read_rows(out)[0]["ko"] == "안녕하세요"


def test_cli_success_and_error_lines(aihub_dir, tmp_path, capsys, dialogue_header, write_xlsx):
    out = tmp_path / "pairs.jsonl"
    assert main(["data", "aihub", str(aihub_dir), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "wrote 5 pairs from 2 file(s)" in err and "blank 2" in err
    missing = write_xlsx(tmp_path / "m.xlsx", {"Sheet1": [dialogue_header[:-1], [1] * 7]})
    assert main(["data", "aihub", str(missing), "-o", str(tmp_path / "m.jsonl")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "m.xlsx" in err and "번역문" in err
    assert main(["data", "aihub", str(tmp_path / "nope"), "-o", str(tmp_path / "n.jsonl")]) == 1
    assert "no such file or directory" in capsys.readouterr().err
    assert main(["data", "aihub", "-o", str(tmp_path / "n.jsonl")]) == 2  # no inputs: config error
    assert "inputs" in capsys.readouterr().err


RSS_PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from kodeio.data.pairs import AihubConfig, PairsStats, iter_pairs

    def rss_mb():
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * 4096 / 2**20

    config = AihubConfig(inputs=[Path(sys.argv[1])], output=Path("unused.jsonl"))
    samples, n = {}, 0
    for n, _ in enumerate(iter_pairs(config, PairsStats()), 1):
        if n % 25000 == 0:
            samples[n] = rss_mb()
    # VmHWM, not ru_maxrss: the latter also counts the parent's resident set at the moment
    # it forked this child (a long test session's pytest), not this process alone.
    with open("/proc/self/status") as fh:
        hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    print(json.dumps({"rows": n, "rss": samples, "peak_mb": hwm / 1024}))
    """
)


def test_memory_stays_flat_on_200k_rows(big_xlsx, big_rows):
    """Resident memory after 25k rows and after 200k rows must be the same (streaming).

    Keeping even one empty XML element per row (openpyxl's own read-only iteration does)
    grows RSS by ~13 MB over these rows; a DataFrame of the file would need hundreds of MB.
    """
    proc = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(big_xlsx)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["rows"] == big_rows
    rss = {int(k): v for k, v in result["rss"].items()}
    growth = rss[big_rows] - rss[25000]
    assert growth < 4, f"RSS grew {growth:.1f} MB from 25k to 200k rows: {rss}"
    assert result["peak_mb"] < 200, result
