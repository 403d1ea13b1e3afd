"""Synthesis and training agree on length: the plan's check against sums done by hand."""

from __future__ import annotations

from pathlib import Path

from kodeio.plan.conversation import (
    FEEDBACK_TOKENS,
    check_conversation_fits,
    conversation_tokens,
    largest_max_tokens,
)
from kodeio.plan.report import StageReport


def test_longest_conversation_and_largest_max_tokens_by_hand() -> None:
    assert FEEDBACK_TOKENS == 256
    # 1,024 prompt + 4,096 x 2 turns + 256 feedback: the 4090 recipe as it was.
    assert conversation_tokens(1024, 4096, 1) == 1024 + 8192 + 256 == 9472
    # (4,096 - 1,024 - 256) // 2 = 1,408, and 1,408 is the last value that fits.
    assert largest_max_tokens(1024, 1, 4096) == 1408
    assert conversation_tokens(1024, 1408, 1) == 4096
    assert conversation_tokens(1024, 1409, 1) == 4098
    # No revision: no feedback message, one turn.
    assert conversation_tokens(1024, 3072, 0) == 4096 and largest_max_tokens(1024, 0, 4096) == 3072
    # Two revisions: (8,192 - 512 - 2 x 256) // 3 = 2,389 (7,168 / 3 rounded down).
    assert largest_max_tokens(512, 2, 8192) == 2389
    assert conversation_tokens(512, 2389, 2) == 512 + 7167 + 512 == 8191
    assert largest_max_tokens(1024, 1, 1024) == 0  # the prompt alone fills it


def test_check_names_the_largest_max_tokens() -> None:
    rep = StageReport("synth")
    check_conversation_fits(rep, 16384, 1, 16384, 1024)
    fig = rep.figure("longest conversation")
    assert fig is not None and fig.value == 34048
    assert "1,024 prompt + 16,384 max_tokens x (1 + 1 revisions) + 256 feedback x 1" in fig.how
    assert rep.problems == [
        "synth: a full conversation is up to 34,048 tokens (1,024 prompt + 16,384 max_tokens "
        "x 2 turns + 256 feedback) > train.max_seq_length 16,384, so training would drop it; "
        "largest synth.sampling.max_tokens that fits: 7,552 (or train.max_seq_length 34,048)"
    ]  # (16,384 - 1,024 - 256) // 2 = 7,552
    fits = StageReport("synth")
    check_conversation_fits(fits, 7552, 1, 16384, 1024)
    assert not fits.problems and fits.figure("longest conversation").value == 16384  # type: ignore[union-attr]
    none_fits = StageReport("synth")
    check_conversation_fits(none_fits, 64, 1, 512, 1024)
    assert none_fits.problems[0].endswith("no max_tokens fits; train.max_seq_length 1,408")


def test_plan_cli_fails_with_one_line_and_passes_when_it_fits(
    tmp_path: Path, kodeio_plan, recipe, small_model
) -> None:
    model = small_model(tmp_path)
    path = recipe(tmp_path, str(model), {"max_model_len": 4096, "max_num_seqs": 4})
    # The fixture's synth: max_tokens 1,024, revisions 1 (the default): 1,024 + 2,048 + 256.
    proc = kodeio_plan(tmp_path, "-c", str(path), "--gpu", "h100",
                       "--set", "train.max_seq_length=3000")  # fmt: skip
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0] == (
        "error: synth: a full conversation is up to 3,328 tokens (1,024 prompt + 1,024 "
        "max_tokens x 2 turns + 256 feedback) > train.max_seq_length 3,000, so training would "
        "drop it; largest synth.sampling.max_tokens that fits: 860 (or train.max_seq_length "
        "3,328)"
    )  # (3,000 - 1,024 - 256) // 2 = 860
    assert "longest conversation (for training): 3,328 tokens" in proc.stdout

    ok = kodeio_plan(tmp_path, "-c", str(path), "--gpu", "h100",
                     "--set", "train.max_seq_length=3328")  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "= 3,328 <= train.max_seq_length 3,328" in ok.stdout
