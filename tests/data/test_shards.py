"""`--shard K/N` + `kodeio merge` on the data stages: the bytes of a single run.

`data aihub` shards by file, `data hf` by row, `data mix` computes dedup signatures and
token counts per shard and replays dedup, split, sampling and shuffle in the merge.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kodeio.cli import main


def _merge(shards: list[Path], out: Path, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    code = main(["merge", *map(str, shards[::-1]), "-o", str(out)])
    return code, capsys.readouterr().err


def _one_line(err: str, needle: str) -> None:
    assert needle in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_aihub_shards_merge_into_the_bytes_of_a_single_run(
    aihub_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, write_jsonl
) -> None:
    inputs = tmp_path / "in"
    shutil.copytree(aihub_dir, inputs)
    (inputs / "03_more.csv").write_text(
        "원문,번역문\n안녕하세요,Hello\n,Only English\n고마워요,Thanks\n"
    )
    write_jsonl(inputs / "04_rows.jsonl", [{"ko": "네", "en": "Yes"}, {"ko": "아니요", "en": "No"}])
    single = tmp_path / "pairs.jsonl"
    assert main(["data", "aihub", str(inputs), "-o", str(single)]) == 0
    shards = [tmp_path / f"s{k}.jsonl" for k in (1, 2, 3)]
    for k, shard in enumerate(shards, 1):
        assert main(["data", "aihub", str(inputs), "-o", str(shard), "--shard", f"{k}/3"]) == 0
    capsys.readouterr()
    merged = tmp_path / "merged.jsonl"
    assert _merge(shards, merged, capsys)[0] == 0
    assert merged.read_bytes() == single.read_bytes()
    stats = single.with_name(single.name + ".stats.json")
    assert merged.with_name(merged.name + ".stats.json").read_bytes() == stats.read_bytes()

    # A shard over other inputs (one file fewer) is refused, and nothing is written.
    (inputs / "04_rows.jsonl").unlink()
    other = tmp_path / "other3.jsonl"
    assert main(["data", "aihub", str(inputs), "-o", str(other), "--shard", "3/3"]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.jsonl"
    code, err = _merge([*shards[:2], other], bad, capsys)
    assert code == 1 and not bad.exists()
    _one_line(err, "were they run on the same inputs?")


def test_hf_shards_merge_into_the_bytes_of_a_single_run(
    tmp_path: Path, capsys: pytest.CaptureFixture, write_jsonl
) -> None:
    rows = [
        {"question": f"질문 {i}?", "answer": f"답 {i}" if i % 4 != 2 else ""} for i in range(11)
    ]
    data = write_jsonl(tmp_path / "qa.jsonl", rows)
    common = ["data", "hf", str(data), "--layout", "qa"]
    single = tmp_path / "conv.jsonl"
    assert main([*common, "-o", str(single)]) == 0
    shards = [tmp_path / f"s{k}.jsonl" for k in (1, 2, 3, 4)]
    for k, shard in enumerate(shards, 1):
        assert main([*common, "-o", str(shard), "--shard", f"{k}/4"]) == 0
    capsys.readouterr()
    merged = tmp_path / "merged.jsonl"
    assert _merge(shards, merged, capsys)[0] == 0
    assert merged.read_bytes() == single.read_bytes()

    # No usable row anywhere: each shard is fine, the merge says what a single run says.
    empty = write_jsonl(tmp_path / "empty.jsonl", [{"question": "q", "answer": ""}] * 3)
    halves = [tmp_path / f"e{k}.jsonl" for k in (1, 2)]
    for k, half in enumerate(halves, 1):
        args = ["data", "hf", str(empty), "--layout", "qa", "-o", str(half), "--shard", f"{k}/2"]
        assert main(args) == 0
    capsys.readouterr()
    code, err = _merge(halves, tmp_path / "none.jsonl", capsys)
    assert code == 1 and not (tmp_path / "none.jsonl").exists()
    _one_line(err, "no usable rows (skipped: empty question or answer: 3)")


def _mix_config(
    sources: dict[str, Path],
    tmp_path: Path,
    tokenizer: Path,
    helpers: tuple[Callable[..., dict], Callable[..., Path], Callable[..., list[dict]]],
) -> Path:
    trace_row, write_jsonl, three_sources = helpers
    import yaml

    # Duplicates across shards: exact copies of earlier rows in other sources, and a near
    # copy, so dedup must be replayed in source and row order.
    dups = [trace_row(i) for i in range(0, 40, 3)] + [trace_row(i) for i in range(500, 520)]
    pairs = sources["pairs"].read_text(encoding="utf-8").splitlines()[:20:2]
    ko = "환자는 사흘 전부터 기침과 발열이 있었고 어제부터 숨이 차다고 호소하며 응급실에 왔다"
    en = "The patient came to the ER with cough and fever for three days."
    near = [{"ko": ko, "en": en}, {"ko": ko + "고 한다", "en": en}]
    more = tmp_path / "more_pairs.jsonl"
    rows = [*pairs, *(json.dumps(r, ensure_ascii=False) for r in near)]
    more.write_text("".join(f"{line}\n" for line in rows), encoding="utf-8")
    spec = {
        "sources": [
            *three_sources(sources),
            {"name": "again", "kind": "messages", "path": str(write_jsonl(tmp_path / "dup.jsonl",
                                                                          dups)), "count": 10},
            {"name": "more", "kind": "pairs", "path": str(more), "count": 5},
        ],
        "total": 120,
        "seed": 3,
        "formats": ["jsonl"],
        "length": {"tokenizer": str(tokenizer), "max_tokens": 400},
    }  # fmt: skip
    path = tmp_path / "mix.yaml"
    path.write_text(yaml.safe_dump({"data_mix": spec}), encoding="utf-8")
    return path


def test_mix_shards_merge_into_the_bytes_of_a_single_run(
    mix_sources: dict[str, Path],
    tmp_path: Path,
    tiny_tokenizer_dir: Path,
    capsys: pytest.CaptureFixture,
    trace_row: Callable[..., dict],
    write_jsonl: Callable[..., Path],
    three_sources: Callable[..., list[dict]],
    tree_digest: Callable[[Path], dict[str, str]],
) -> None:
    helpers = (trace_row, write_jsonl, three_sources)
    config = _mix_config(mix_sources, tmp_path, tiny_tokenizer_dir, helpers)
    single = tmp_path / "single"
    assert main(["data", "mix", "-c", str(config), "-o", str(single)]) == 0
    shards = [tmp_path / f"s{k}.jsonl" for k in (1, 2, 3)]
    for k, shard in enumerate(shards, 1):
        assert main(["data", "mix", "-c", str(config), "-o", str(shard), "--shard", f"{k}/3"]) == 0
    capsys.readouterr()
    merged = tmp_path / "merged"
    assert _merge(shards, merged, capsys)[0] == 0
    assert tree_digest(merged) == tree_digest(single)
    stats = (single / "mix_stats.json").read_text()
    assert '"exact": 0' not in stats and '"near": 0' not in stats  # dedup had work to do

    # A missing shard, and a source changed after the shards ran: one line, nothing written.
    bad = tmp_path / "bad"
    code, err = _merge(shards[:2], bad, capsys)
    assert code == 1 and not bad.exists()
    _one_line(err, "shard(s) 3 of 3 missing")
    more = tmp_path / "more_pairs.jsonl"
    more.write_text(more.read_text(encoding="utf-8").replace("환자는", "의사는"), encoding="utf-8")
    code, err = _merge(shards, bad, capsys)
    assert code == 1 and not bad.exists()
    _one_line(err, "did the sources change since the shards ran?")
