"""`kodeio data mix`: ratios, counts, upsampling cap, dedup, length filter, stratified
split, determinism, the card and the hub upload's file list."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys

import pytest
import yaml

from kodeio.cli import main
from kodeio.data.mix import MixConfig, build_mix, run_stage
from kodeio.errors import ConfigError, InputError


def config(sources, tmp_path, **kw) -> MixConfig:
    return MixConfig.model_validate({"sources": sources, "output": str(tmp_path / "mix"), **kw})


def test_ratios_with_total_and_stratified_split(mix_sources, tmp_path, three_sources):
    cfg = config(three_sources(mix_sources), tmp_path, total=100, split={"eval_fraction": 0.1})
    result = build_mix(cfg)
    per_source = {r.name: r.rows for r in result.reports}
    assert per_source == {
        "codeio": {"train": 45, "eval": 5},
        "aihub": {"train": 27, "eval": 3},
        "kormed": {"train": 18, "eval": 2},
    }
    ids = [s.id for split in result.splits.values() for s in split]
    assert len(ids) == len(set(ids)) == 100
    # Eval rows come from the same unique pool but never repeat in train.
    assert not {s.id for s in result.splits["eval"]} & {s.id for s in result.splits["train"]}
    # The shuffle interleaves sources instead of leaving them in blocks.
    first = [s.source for s in result.splits["train"][:20]]
    assert len(set(first)) >= 2


def test_ratios_without_total_use_the_largest_mix_without_upsampling(
    mix_sources, tmp_path, three_sources
):
    result = build_mix(config(three_sources(mix_sources), tmp_path))
    totals = {r.name: r.rows["train"] + r.rows["eval"] for r in result.reports}
    # kormed (60 rows at 20%) is the binding source: 60 / 0.2 = 300 rows in all.
    assert totals == {"codeio": 150, "aihub": 90, "kormed": 60}
    assert all(r.upsample_factor <= 1.0 and not r.capped for r in result.reports)


def test_count_with_upsampling_cap_keeps_eval_out_of_train(mix_sources, tmp_path):
    sources = [
        {
            "name": "aihub",
            "kind": "pairs",
            "path": str(mix_sources["pairs"]),
            "count": 1000,
            "max_upsample": 2.0,
        },
        {"name": "codeio", "kind": "traces", "path": str(mix_sources["traces"]), "count": 50},
    ]
    result = build_mix(config(sources, tmp_path, split={"eval_fraction": 0.05}))
    report = {r.name: r for r in result.reports}
    assert report["aihub"].capped
    aihub_train = [s for s in result.splits["train"] if s.source == "aihub"]
    aihub_eval = [s for s in result.splits["eval"] if s.source == "aihub"]
    assert len(aihub_train) + len(aihub_eval) <= 200
    base = collections.Counter(s.id.split("#")[0] for s in aihub_train)
    assert max(base.values()) == 2  # upsampled, at most 2 copies
    assert not {s.id for s in aihub_eval} & set(base)
    assert report["codeio"].rows["train"] + report["codeio"].rows["eval"] == 50
    assert not report["codeio"].capped


def test_exact_and_near_duplicates_are_removed(tmp_path, trace_row, write_jsonl):
    long_ko = "환자는 사흘 전부터 기침과 발열이 있었고 어제부터 숨이 차다고 호소하며 응급실에 왔다"
    pairs = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {
                "ko": long_ko,
                "en": "The patient came to the ER with cough and fever for three days.",
                "source": "a",
            },
            {
                "ko": long_ko + " ",
                "en": "the patient came to the ER, with cough and fever for three days",
                "source": "b",
            },
            {
                "ko": long_ko + "고 한다",
                "en": "The patient came to the ER with cough and fever for three days.",
                "source": "c",
            },
            {
                "ko": long_ko.replace("사흘", "열흘"),
                "en": "The patient came to the ER with cough and fever for ten days.",
                "source": "e",
            },
            {
                "ko": "전혀 다른 문장입니다.",
                "en": "A completely different sentence.",
                "source": "d",
            },
        ],
    )
    traces = write_jsonl(tmp_path / "t.jsonl", [trace_row(i) for i in range(3)] + [trace_row(0, 9)])
    sources = [
        {"name": "pairs", "kind": "pairs", "path": str(pairs), "ratio": 1},
        {"name": "traces", "kind": "traces", "path": str(traces), "ratio": 1},
    ]
    result = build_mix(config(sources, tmp_path, split={"eval_fraction": 0}))
    report = {r.name: r for r in result.reports}
    assert (report["pairs"].duplicates_exact, report["pairs"].duplicates_near) == (1, 1)
    assert report["pairs"].unique == 3  # "ten days" is a different fact, below the threshold
    # Same question and answer with other reasoning is an exact duplicate; traces whose
    # prompts differ only in the input are not near-deduplicated by default.
    assert (report["traces"].duplicates_exact, report["traces"].duplicates_near) == (1, 0)
    assert report["traces"].unique == 3
    off = build_mix(
        config(sources, tmp_path, split={"eval_fraction": 0}, dedup={"near": False, "exact": False})
    )
    assert {r.name: r.unique for r in off.reports} == {"pairs": 5, "traces": 4}


def test_length_filter_with_a_local_tokenizer(
    mix_sources, tmp_path, tiny_tokenizer_dir, trace_row, write_jsonl
):
    traces = write_jsonl(
        tmp_path / "t.jsonl",
        [trace_row(i, 3) for i in range(20)] + [trace_row(100 + i, 400) for i in range(5)],
    )
    sources = [
        {"name": "codeio", "kind": "traces", "path": str(traces), "ratio": 1, "license": "mit"}
    ]
    cfg = config(
        sources,
        tmp_path,
        length={"tokenizer": str(tiny_tokenizer_dir), "max_tokens": 300},
        split={"eval_fraction": 0.1},
    )
    out = run_stage(cfg)
    report = json.loads((out / "mix_stats.json").read_text())["sources"][0]
    assert report["length_filtered"] == 5 and report["unique"] == 20
    import datasets

    data = datasets.load_from_disk(str(out))
    lengths = list(data["train"]["num_tokens"]) + list(data["eval"]["num_tokens"])
    assert all(isinstance(n, int) and 0 < n <= 300 for n in lengths)
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "## Token statistics" in card and "| codeio | train | 18 |" in card
    with pytest.raises(ConfigError, match="tokenizer.json"):
        build_mix(config(sources, tmp_path, length={"tokenizer": str(tmp_path), "max_tokens": 10}))


def test_length_filter_counts_dropped_traces_by_mode_and_turn(
    mix_sources, tmp_path, tiny_tokenizer_dir, trace_row, write_jsonl, capsys
):
    """Exported traces carry mode and turn; over-long ones are dropped and counted by both."""

    def row(i, mode, turn, words):
        return {**trace_row(i, words), "mode": mode, "turn": turn}

    kinds = [("output", 1, 3)] * 8 + [("input", 2, 3)] * 6  # short: kept
    kinds += [("output", 2, 400)] * 3 + [("input", 1, 400)] * 1 + [("input", 2, 400)] * 2
    traces = write_jsonl(tmp_path / "t.jsonl", [row(i, *k) for i, k in enumerate(kinds)])
    sources = [
        {"name": "codeio", "kind": "traces", "path": str(traces), "ratio": 0.7},
        {"name": "aihub", "kind": "pairs", "path": str(mix_sources["pairs"]), "ratio": 0.3},
    ]
    cfg = config(
        sources, tmp_path, length={"tokenizer": str(tiny_tokenizer_dir), "max_tokens": 300}
    )
    cfg_path = tmp_path / "mix.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")), encoding="utf-8")
    assert main(["data", "mix", "-c", str(cfg_path)]) == 0
    said = " ".join(capsys.readouterr().err.split())
    assert "length-filtered: codeio 6 (input/turn 1: 1, input/turn 2: 2, output/turn 2: 3)" in said
    out = cfg.output
    stats = json.loads((out / "mix_stats.json").read_text())
    codeio, aihub = stats["sources"]
    assert codeio["length_filtered"] == 6 and codeio["unique"] == 14
    assert codeio["length_filtered_by_turn"] == {"input/turn 1": 1, "input/turn 2": 2,
                                                 "output/turn 2": 3}  # fmt: skip
    assert aihub["length_filtered"] == 0 and aihub["length_filtered_by_turn"] == {}
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| source | mode/turn | length-filtered |" in card
    assert "| codeio | output/turn 2 | 3 |" in card and "| codeio | input/turn 1 | 1 |" in card
    import datasets

    data = datasets.load_from_disk(str(out))
    rows = [*data["train"], *data["eval"]]
    kept = {(r["mode"], r["turn"]) for r in rows if r["source"] == "codeio"}
    assert kept == {("output", 1), ("input", 2)}  # only the short kinds are left
    assert all(r["mode"] is None and r["turn"] is None for r in rows if r["source"] == "aihub")

    # A traces row whose `turn` is not a positive integer is a one-line error naming the row.
    bad = write_jsonl(tmp_path / "bad.jsonl", [row(0, "output", 1, 3), row(1, "output", "2", 3)])
    with pytest.raises(InputError, match=r"bad.jsonl:2: key 'turn' must be a positive integer"):
        build_mix(config([{"name": "t", "kind": "traces", "path": str(bad), "ratio": 1}], tmp_path))


def test_output_contract_card_and_determinism(mix_sources, tmp_path, three_sources, tree_digest):
    cfg = config(
        three_sources(mix_sources),
        tmp_path,
        total=120,
        formats=["parquet", "jsonl"],
        seed=7,
        card={"title": "Test mix", "license": "other"},
    )
    out = run_stage(cfg)
    import datasets

    data = datasets.load_from_disk(str(out))
    assert set(data) == {"train", "eval"}
    assert data["train"].column_names == ["id", "source", "messages", "num_tokens", "mode", "turn"]
    assert data["train"].features["mode"].dtype == "string"
    assert data["train"].features["turn"].dtype == "int64"
    row = data["train"][0]
    assert (
        row["messages"][-1]["role"] == "assistant" and "</think>" in row["messages"][-1]["content"]
    )
    assert (out / "parquet" / "train.parquet").is_file() and (
        out / "jsonl" / "eval.jsonl"
    ).is_file()
    card = (out / "README.md").read_text(encoding="utf-8")
    for needle in (
        "# Test mix",
        "| codeio | traces | apache-2.0 |",
        "cc-by-nc-2.0",
        "AI Hub terms of use",
        "path: data/train-*.parquet",
    ):
        assert needle in card
    first = tree_digest(out)
    fingerprint = data["train"]._fingerprint

    # Same config again (into a fresh directory, with another hash seed) -> same bytes.
    again = cfg.model_copy(update={"output": tmp_path / "mix2"})
    config_path = tmp_path / "mix.yaml"
    config_path.write_text(yaml.safe_dump(again.model_dump(mode="json")), encoding="utf-8")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    proc = subprocess.run(
        [sys.executable, "-m", "kodeio.cli", "data", "mix", "-c", str(config_path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert tree_digest(tmp_path / "mix2") == first
    assert datasets.load_from_disk(str(tmp_path / "mix2"))["train"]._fingerprint == fingerprint

    # Rerunning into the same directory replaces it atomically; another seed changes the mix.
    run_stage(cfg)
    assert tree_digest(out) == first
    other = build_mix(cfg.model_copy(update={"seed": 8}))
    assert (
        other.stats["fingerprint"]
        != json.loads((out / "mix_stats.json").read_text())["fingerprint"]
    )


def test_hub_upload_files_and_token_handling(mix_sources, tmp_path, monkeypatch, three_sources):
    from kodeio.data.hub import hub_files, push_to_hub

    out = run_stage(config(three_sources(mix_sources), tmp_path, total=60))
    staging = tmp_path / "staging"
    staging.mkdir()
    files = hub_files(out, staging)
    assert sorted(files) == [
        "README.md",
        "data/eval-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet",
    ]
    import datasets

    parquet = datasets.Dataset.from_parquet(str(files["data/train-00000-of-00001.parquet"]))
    assert parquet.num_rows == datasets.load_from_disk(str(out))["train"].num_rows

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))  # no login cache either
    with pytest.raises(ConfigError, match="no Hugging Face token"):
        push_to_hub(out, "someone/mix")

    secret = "hf_kodeioTestTokenThatMustNotLeak123"
    monkeypatch.setenv("HF_TOKEN", secret)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: fails at once
    with pytest.raises(InputError) as err:
        push_to_hub(out, "someone/mix")
    assert secret not in str(err.value) and "upload failed" in str(err.value)
    for path in out.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()


def test_bad_inputs_are_one_line_errors(mix_sources, tmp_path, capsys, trace_row, write_jsonl):
    bad = write_jsonl(
        tmp_path / "bad.jsonl",
        [
            trace_row(0),
            {
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "no reasoning here"},
                ]
            },
        ],
    )
    cfg_path = tmp_path / "mix.yaml"
    cfg_path.write_text(
        yaml.safe_dump({"sources": [{"name": "t", "kind": "traces", "path": str(bad), "ratio": 1}]})
    )
    assert main(["data", "mix", "-c", str(cfg_path), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}:2" in err and "<think>" in err
    assert not (tmp_path / "out").exists()

    cfg_path.write_text(
        yaml.safe_dump({"sources": [{"name": "t", "kind": "traces", "path": str(bad)}]})
    )
    assert main(["data", "mix", "-c", str(cfg_path), "-o", str(tmp_path / "out")]) == 2
    assert "exactly one of ratio or count" in capsys.readouterr().err

    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a kodeio mix directory"):
        run_stage(
            MixConfig.model_validate(
                {
                    "sources": [
                        {
                            "name": "p",
                            "kind": "pairs",
                            "path": str(mix_sources["pairs"]),
                            "ratio": 1,
                        }
                    ],
                    "output": str(precious),
                }
            )
        )
    assert (precious / "notes.txt").read_text() == "keep me"


def test_messages_source_and_translation_directions(mix_sources, tmp_path, write_jsonl):
    from kodeio.data.text import split_think

    conversations = write_jsonl(
        tmp_path / "conv.jsonl",
        [
            {
                "id": "c1",
                "messages": [
                    {"role": "system", "content": "친절하게 답하세요."},
                    {"role": "user", "content": "안녕?"},
                    {"role": "assistant", "content": "안녕하세요!"},
                ],
            },
        ],
    )
    sources = [
        {"name": "chat", "kind": "messages", "path": str(conversations), "count": 1},
        {"name": "aihub", "kind": "pairs", "path": str(mix_sources["pairs"]), "count": 100},
    ]
    result = build_mix(config(sources, tmp_path, split={"eval_fraction": 0}))
    rows = {s.id: s for s in result.splits["train"]}
    chat = rows["chat:c1"].messages
    assert [m["role"] for m in chat] == ["system", "user", "assistant"]
    assert chat[-1]["content"] == "<think>\n\n</think>\n\n안녕하세요!"
    pairs = [s for s in result.splits["train"] if s.source == "aihub"]
    answers = [split_think(s.messages[-1]["content"])[1] for s in pairs]
    to_korean = sum(1 for a in answers if any("\uac00" <= ch <= "\ud7a3" for ch in a))
    assert 25 < to_korean < 75  # direction "both": each row gets one direction, seeded

    plain = build_mix(config(sources, tmp_path, split={"eval_fraction": 0}, think_missing="none"))
    plain_chat = next(s for s in plain.splits["train"] if s.id == "chat:c1")
    assert plain_chat.messages[-1]["content"] == "안녕하세요!"
