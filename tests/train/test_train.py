"""`kodeio train` on the tiny R1-distill model: label mask, memorization, resume, bad data.

Training runs go through the real CLI in a subprocess (Unsloth must be imported before
transformers, which this pytest process has already imported). The label-mask test builds
the real trainer in-process on the transformers backend.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from kodeio.testing.tiny import tiny_model_dir


def kodeio_cmd(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from kodeio.cli import main; sys.exit(main())",
        "train",
        *args,
    ]


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_TOKEN", "WANDB"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONHASHSEED="0")
    # One thread: the tiny model gains nothing from two, and OpenMP threads spin-waiting on
    # a shared CI box slow a short run down many times over.
    env["OMP_NUM_THREADS"] = "1"
    return env


def run_train(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        kodeio_cmd(*args), capture_output=True, text=True, env=clean_env(), timeout=900
    )


def greedy_from_adapter(
    adapter: Path, messages: list[dict[str, str]], max_new_tokens: int = 40
) -> str:
    """Load the saved adapter the way export/eval will (base from adapter_config) and decode."""
    import torch
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(adapter)
    model = AutoPeftModelForCausalLM.from_pretrained(adapter, dtype=torch.float32).eval()
    enc = tok.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False)
    return tok.decode(out[0, enc["input_ids"].shape[1] :])


# --- label mask -------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["r1", "chatml"])
def test_label_mask_trains_reasoning_answer_and_eos_only(
    family: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    one_conv: Path,
    conv: SimpleNamespace,
) -> None:
    from kodeio.train.config import TrainConfig
    from kodeio.train.stage import build_trainer, make_trainer

    model_dir = tiny_model_dir(tmp_path_factory, chat_template=family)
    cfg = TrainConfig(
        preset="cpu-smoke", model=str(model_dir), data=[str(one_conv)], backend="transformers",
        packing=False, samples=False, output_dir=tmp_path / "out",
    )  # fmt: skip
    parts = build_trainer(cfg, quiet=True)
    trainer = make_trainer(cfg, parts, tmp_path / "out" / "checkpoints", [])
    tok = parts["tokenizer"]
    row = trainer.train_dataset[0]
    ids, labels = row["input_ids"], row["labels"]
    trained_ids = [i for i, lab in zip(ids, labels, strict=True) if lab != -100]
    trained = tok.decode(trained_ids)
    masked = tok.decode([i for i, lab in zip(ids, labels, strict=True) if lab == -100])

    assert conv.reasoning in trained and "<think>" in trained and "</think>" in trained
    assert conv.answer in trained
    assert trained_ids[-1] == tok.eos_token_id  # the model learns to stop
    assert conv.user not in trained and conv.user in masked  # the prompt is masked
    # The prompt is a masked prefix: nothing before the first trained token is trained.
    first = next(i for i, lab in enumerate(labels) if lab != -100)
    assert all(lab == -100 for lab in labels[:first]) and first > 0
    last = max(i for i, lab in enumerate(labels) if lab != -100)
    assert all(lab != -100 for lab in labels[first : last + 1])  # one contiguous assistant span
    # After trainer construction the tokenizer carries the inference template again for saving.
    tok.chat_template = parts["template"].inference_template
    if family == "r1":
        # The trap this guards against: the inference template deletes the reasoning.
        naive = tok.apply_chat_template(conv.messages, tokenize=False)
        assert conv.reasoning not in naive and conv.answer in naive
        assert 0.3 < len(trained_ids) / len(ids) < 0.9


def test_packing_keeps_examples_apart(tmp_path: Path, tiny_model: Path) -> None:
    """bfd packing must give the same loss as padded batches (no attention across examples)."""
    import torch

    from kodeio.train.config import TrainConfig
    from kodeio.train.stage import build_trainer, make_trainer

    data = tmp_path / "varied.jsonl"
    rows = []
    for i in range(6):
        reasoning = " ".join(["step"] * (3 + 7 * i))
        rows.append(
            {"messages": [
                {"role": "user", "content": f"Question {i}?"},
                {"role": "assistant", "content": f"<think>\n{reasoning}\n</think>\n\nAnswer {i}."},
            ]}
        )  # fmt: skip
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    losses, shapes = {}, {}
    for packing in (False, True):
        cfg = TrainConfig(
            preset="cpu-smoke", model=str(tiny_model), data=[str(data)], backend="transformers", packing=packing,
            samples=False, per_device_train_batch_size=6, output_dir=tmp_path / f"o{packing}",
        )  # fmt: skip
        parts = build_trainer(cfg, quiet=True)
        trainer = make_trainer(cfg, parts, tmp_path / f"o{packing}" / "ck", [])
        assert parts["packing_effective"] is packing
        batch = next(iter(trainer.get_train_dataloader()))
        shapes[packing] = tuple(batch["input_ids"].shape)
        n_items = int((batch["labels"][:, 1:] != -100).sum())
        trainer.model.eval()
        with torch.no_grad():
            losses[packing] = float(
                trainer.compute_loss(trainer.model, batch, num_items_in_batch=n_items)
            )
    assert shapes[True][0] == 1 and shapes[False][0] == 6  # packed into one padding-free row
    assert abs(losses[True] - losses[False]) < 1e-4, losses


def test_unknown_template_family_is_a_config_error(
    tmp_path: Path, tiny_model: Path, one_conv: Path
) -> None:
    from transformers import AutoTokenizer

    from kodeio.errors import ConfigError
    from kodeio.train.templates import choose_training_template, verify_training_template

    tok = AutoTokenizer.from_pretrained(tiny_model)
    tok.chat_template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    with pytest.raises(ConfigError, match="no training chat template"):
        choose_training_template(tok)
    # A user template that forgets the EOS inside {% generation %} is caught by the probe.
    bad = tmp_path / "bad.jinja"
    bad.write_text(
        "{% for m in messages %}{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}"
        "{% endgeneration %}{{ eos_token }}{% else %}{{ m['content'] }}{% endif %}{% endfor %}"
    )
    with pytest.raises(ConfigError, match="end-of-turn token"):
        verify_training_template(tok, choose_training_template(tok, bad))


# --- memorization + run-dir layout ------------------------------------------------------


def test_memorizes_reasoning_and_writes_run_dir(
    tmp_path: Path, tiny_model: Path, one_conv: Path, conv: SimpleNamespace
) -> None:
    out = tmp_path / "run"
    proc = run_train(
        "--model", str(tiny_model), "--data", str(one_conv), "--output-dir", str(out), "--preset", "cpu-smoke",
        "--max-steps", "150", "--learning-rate", "3e-3", "--lora-r", "16",
        "--set", "lora_alpha=32", "--set", "save_steps=1000", "--set", "sample_max_new_tokens=8",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]

    text = greedy_from_adapter(out / "adapter", conv.messages[:1])
    # The prompt ends in "<think>\n"; the adapter continues with the trained reasoning and answer.
    assert text.startswith(conv.reasoning), text
    assert f"</think>\n\n{conv.answer}{conv.eos}" in text, text

    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["backend"] == "unsloth" and summary["fallback_reason"] is None
    assert summary["global_step"] == 150 and summary["device"] == "cpu"
    assert summary["train_loss_last"] < summary["train_loss_first"] - 1.0
    for name in (
        "adapter_config.json",
        "adapter_model.safetensors",
        "tokenizer.json",
        "chat_template.jinja",
    ):
        assert (out / "adapter" / name).is_file(), name
    adapter_cfg = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter_cfg["base_model_name_or_path"] == str(tiny_model)
    # The saved template is the inference one (generation prompt opens <think>), not the training one.
    assert "{% generation %}" not in (out / "adapter" / "chat_template.jinja").read_text()

    import yaml

    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert (
        resolved["model"] == str(tiny_model)
        and resolved["lora_r"] == 16
        and resolved["max_steps"] == 150
    )
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 150
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    samples = (out / "samples.md").read_text()
    for sample_id in ("codeio-output", "ko-en-translation", "medical-question"):
        assert f"## {sample_id}" in samples
    assert (
        samples.count("**Before (base model)**") == 3
        and samples.count("**After (with adapter)**") == 3
    )


# --- resume -----------------------------------------------------------------------------


def test_kill_and_resume_reaches_same_step_and_loss_continues(
    tmp_path: Path, tiny_model: Path, one_conv: Path
) -> None:
    out = tmp_path / "run"
    args = [
        "--model", str(tiny_model), "--data", str(one_conv), "--output-dir", str(out), "--preset", "cpu-smoke",
        "--max-steps", "120", "--learning-rate", "3e-3", "--backend", "transformers",
        "--set", "save_steps=10", "--set", "samples=false",
    ]  # fmt: skip
    proc = subprocess.Popen(
        kodeio_cmd(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=clean_env()
    )
    first_ckpt = out / "checkpoints" / "checkpoint-10" / "trainer_state.json"
    while not first_ckpt.is_file() and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "training finished before it could be killed"
    assert not (out / "adapter").exists() and not (out / "trainer_state.json").exists()

    again = run_train(*args)  # without --resume the run dir is protected
    assert again.returncode == 2 and "--resume" in again.stdout + again.stderr

    resumed = run_train(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["backend"] == "transformers" and summary["global_step"] == 120
    start = int(Path(summary["resumed_from"]).name.split("-")[1])
    assert start >= 10
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    losses = {e["step"]: e["loss"] for e in history if "loss" in e}
    assert sorted(losses) == list(range(1, 121))  # steps before the kill kept, the rest continued
    # The loss continues from the checkpoint instead of restarting from the untrained value.
    assert losses[start + 1] < losses[1] - 0.5
    assert losses[120] <= losses[start + 1]


# --- bad data ---------------------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from kodeio.cli import main

    code = main(["train", "--model", "/nonexistent/model-never-loaded", *args])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def test_bad_data_fails_clearly_before_loading_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], conv: SimpleNamespace
) -> None:
    no_assistant = tmp_path / "no_assistant.jsonl"
    no_assistant.write_text(
        json.dumps({"messages": conv.messages})
        + "\n"
        + json.dumps({"messages": [{"role": "user", "content": "hi"}]})
        + "\n"
    )
    code, msg = _cli(capsys, "--data", str(no_assistant), "-o", str(tmp_path / "o1"))
    assert code == 1 and f"{no_assistant}:2: no assistant turn" in msg and "Traceback" not in msg

    code, msg = _cli(capsys, "--data", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o2"))
    assert code == 1 and "missing.jsonl: training data not found" in msg

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, msg = _cli(capsys, "--data", str(empty), "-o", str(tmp_path / "o3"))
    assert code == 1 and "empty.jsonl: empty dataset" in msg

    import datasets

    ds_dir = tmp_path / "mix"
    datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(
                [{"messages": conv.messages}, {"messages": [{"role": "assistant", "content": ""}]}]
            )
        }
    ).save_to_disk(str(ds_dir))
    code, msg = _cli(capsys, "--data", str(ds_dir), "-o", str(tmp_path / "o4"))
    assert code == 1 and "mix split 'train' row 1: no assistant turn" in msg

    code, msg = _cli(capsys, "-o", str(tmp_path / "o5"))
    assert code == 1 and "no training data" in msg
    code, msg = _cli(capsys, "--data", str(no_assistant), "--set", "lora_rank=8")
    assert code == 2 and "unknown key 'lora_rank'" in msg
    for sub in ("o1", "o2", "o3", "o4"):
        assert not (tmp_path / sub / "adapter").exists()
