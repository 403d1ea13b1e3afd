"""The over-length policy on the tiny model: rows longer than max_length are dropped and
counted (by mode/turn), and no row the trainer sees is cut before its answer and EOS.

The data is a real `kodeio data mix` directory: exported trace rows (with `mode`/`turn`)
and plain conversations, some of each far longer than `max_seq_length`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

MAX_SEQ = 160  # the tiny R1 tokenizer: a short row is ~60 tokens, a long one ~400


def _trace(i: int, mode: str, turn: int, words: int) -> dict[str, Any]:
    """An exported trace row: `turn` assistant turns, the last one answering `Answer i.`."""
    messages = [{"role": "user", "content": f"Question {i}: what does f({i}) return?"}]
    for t in range(1, turn + 1):
        reasoning = " ".join(f"step{j}" for j in range(words))
        answer = f"Answer {i}." if t == turn else f"Guess {i}."
        messages.append(
            {"role": "assistant", "content": f"<think>\n{reasoning}\n</think>\n\n{answer}"}
        )
        if t < turn:
            messages.append({"role": "user", "content": "That is not what f returns. Again."})
    return {"id": f"t{i}", "messages": messages, "source": "codeio", "mode": mode, "turn": turn}


def _chat(i: int, words: int) -> dict[str, Any]:
    body = " ".join(f"word{j}" for j in range(words))
    return {
        "id": f"c{i}",
        "messages": [
            {"role": "user", "content": f"Question {i}: say something."},
            {"role": "assistant", "content": f"<think>\n{body}\n</think>\n\nAnswer {i}."},
        ],
    }


# (mode, turn, reasoning words) per trace row; ids 0-9. Long rows: 3 x output/turn 2,
# 1 x input/turn 1; plus 2 long plain rows (ids 20, 21) of the `chat` source.
TRACES = [("output", 1, 4), ("output", 1, 6), ("output", 2, 5), ("input", 1, 3),
          ("input", 2, 4), ("output", 2, 150), ("output", 2, 160), ("output", 2, 170),
          ("input", 1, 300), ("input", 1, 5)]  # fmt: skip
CHATS = [(11, 4), (12, 6), (13, 8), (20, 300), (21, 320)]
LONG_TRAIN_AND_EVAL = {"output/turn 2": 3, "input/turn 1": 1, "chat": 2}


@pytest.fixture(scope="module")
def mix_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mix (train + eval splits, no length filter) written by the real `kodeio data mix`."""
    from kodeio.data.mix import MixConfig, run_stage

    root = tmp_path_factory.mktemp("lenmix")
    traces, chats = root / "traces.jsonl", root / "chat.jsonl"
    traces.write_text("".join(json.dumps(_trace(i, *t)) + "\n" for i, t in enumerate(TRACES)))
    chats.write_text("".join(json.dumps(_chat(i, w)) + "\n" for i, w in CHATS))
    cfg = MixConfig.model_validate({
        "sources": [
            {"name": "codeio", "kind": "traces", "path": str(traces), "count": len(TRACES)},
            {"name": "chat", "kind": "messages", "path": str(chats), "count": len(CHATS)},
        ],
        "output": str(root / "mix"), "dedup": {"near": False}, "split": {"eval_fraction": 0.2},
    })  # fmt: skip
    return run_stage(cfg)


def _config(tiny_model: Path, data: Path, out: Path, **kw: Any) -> Any:
    from kodeio.train.config import TrainConfig

    return TrainConfig(
        preset="cpu-smoke", model=str(tiny_model), data=[str(data)], backend="transformers",
        samples=False, output_dir=out, max_seq_length=MAX_SEQ, **kw,
    )  # fmt: skip


def _labelled_rows(trainer: Any) -> list[list[int]]:
    """The labelled token ids of every example in the real train dataloader's batches
    (padded: one per batch row; packed: split where position_ids restart at 0)."""
    rows: list[list[int]] = []
    for batch in trainer.get_train_dataloader():
        ids, labels = batch["input_ids"], batch["labels"]
        for r in range(ids.shape[0]):
            starts = [0]
            if "position_ids" in batch:
                pos = batch["position_ids"][r].tolist()
                starts = [k for k, p in enumerate(pos) if p == 0]
            bounds = [*starts, ids.shape[1]]
            for a, b in zip(bounds, bounds[1:], strict=False):
                # labels are the input ids themselves (the model shifts them), -100 where masked
                kept = [int(t) for t in labels[r, a:b].tolist() if t != -100]
                if kept:
                    rows.append(kept)
    return rows


@pytest.mark.parametrize("packing", [False, True])
def test_over_length_rows_are_dropped_and_every_fed_row_keeps_answer_and_eos(
    packing: bool, tmp_path: Path, tiny_model: Path, mix_dir: Path
) -> None:
    import datasets
    from transformers import AutoTokenizer

    from kodeio.train.stage import build_trainer, make_trainer
    from kodeio.train.templates import choose_training_template

    mix = datasets.load_from_disk(str(mix_dir))
    assert mix["train"].features["turn"].dtype == "int64"
    # The fixture's premise, measured: long rows are over MAX_SEQ, the others well under.
    tok = AutoTokenizer.from_pretrained(tiny_model)
    template = choose_training_template(tok).template
    all_rows = [*mix["train"], *mix["eval"]]
    n_tokens = [
        len(
            tok.apply_chat_template(
                r["messages"], chat_template=template, tokenize=True, return_dict=True
            )["input_ids"]
        )
        for r in all_rows
    ]
    long_ids = {r["id"] for r, n in zip(all_rows, n_tokens, strict=True) if n > MAX_SEQ}
    assert len(long_ids) == 6 and max(n for n in n_tokens if n <= MAX_SEQ) < MAX_SEQ - 40

    cfg = _config(
        tiny_model, mix_dir, tmp_path / "o", packing=packing, per_device_train_batch_size=3
    )
    parts = build_trainer(cfg, quiet=True)
    dropped = parts["length_dropped"].as_dict()
    long_eval = sum(1 for r in mix["eval"] if r["id"] in long_ids)
    assert dropped == {"total": 6, "eval": long_eval, "by_group": LONG_TRAIN_AND_EVAL}
    assert parts["lengths"].max_length == MAX_SEQ and parts["lengths"].truncated_rows == 0
    assert len(parts["conversations"].train) == len(mix["train"]) - (6 - long_eval)
    assert len(parts["conversations"].eval) == len(mix["eval"]) - long_eval

    trainer = make_trainer(cfg, parts, tmp_path / "o" / "ck", [])
    tok = parts["tokenizer"]
    fed = _labelled_rows(trainer)
    # One labelled span per kept train row, each ending in that row's final answer and EOS.
    expected = sorted(
        r["messages"][-1]["content"].rsplit("\n\n", 1)[1]
        for r in mix["train"]
        if r["id"] not in long_ids
    )
    assert len(fed) == len(expected)
    answers = []
    for labelled in fed:
        assert labelled[-1] == tok.eos_token_id  # the model learns to stop
        text = tok.decode(labelled[:-1])
        answers.append(text.rsplit("\n\n", 1)[1].strip())
    assert sorted(answers) == expected


def test_truncate_is_opt_in_and_cuts_answers(
    tmp_path: Path, tiny_model: Path, mix_dir: Path
) -> None:
    """The opt-in policy keeps long rows and TRL cuts them: the check above would catch it."""
    from kodeio.train.stage import build_trainer, make_trainer

    cfg = _config(tiny_model, mix_dir, tmp_path / "o", packing=False, over_length="truncate")
    parts = build_trainer(cfg, quiet=True)
    assert parts["length_dropped"].as_dict() == {"total": 0, "eval": 0, "by_group": {}}
    assert parts["lengths"].truncated_rows > 0
    trainer = make_trainer(cfg, parts, tmp_path / "o" / "ck", [])
    ends = [labelled[-1] for labelled in _labelled_rows(trainer)]
    assert ends.count(parts["tokenizer"].eos_token_id) < len(ends)


def test_train_summary_counts_dropped_rows(tmp_path: Path, tiny_model: Path, mix_dir: Path) -> None:
    out = tmp_path / "run"
    cmd = [
        sys.executable, "-c", "import sys; from kodeio.cli import main; sys.exit(main())",
        "train", "--model", str(tiny_model), "--data", str(mix_dir), "--output-dir", str(out),
        "--preset", "cpu-smoke", "--backend", "transformers", "--max-steps", "2",
        "--set", f"max_seq_length={MAX_SEQ}", "--set", "samples=false",
    ]  # fmt: skip
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    import os

    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env},
                          timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = json.loads((out / "train_summary.json").read_text())
    dropped = summary["length_dropped"]
    assert dropped["total"] == 6 and dropped["by_group"] == LONG_TRAIN_AND_EVAL
    assert summary["train_rows"] + summary["eval_rows"] == len(TRACES) + len(CHATS) - 6
    assert summary["eval_rows"] + dropped["eval"] == 3  # 20% of each source's rows: 2 + 1
    line = " ".join((proc.stdout + proc.stderr).split())
    assert "over-length rows dropped: 6" in line and "output/turn 2: 3" in line


def test_nothing_left_is_one_line(
    tmp_path: Path, tiny_model: Path, mix_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kodeio.cli import main

    code = main(["train", "--model", str(tiny_model), "--data", str(mix_dir), "-o",
                 str(tmp_path / "o"), "--backend", "transformers", "--preset", "cpu-smoke",
                 "--set", "max_seq_length=16"])  # fmt: skip
    captured = capsys.readouterr()
    msg = " ".join((captured.out + captured.err).split())
    assert code == 1 and "Traceback" not in msg
    assert "every training row is longer than max_length 16" in msg and "max_seq_length 16" in msg
    assert "the longest is" in msg
    assert not (tmp_path / "o" / "adapter").exists()
