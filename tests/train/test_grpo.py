"""`kodeio train --method grpo` on CPU: the tiny model, RL prompts from `synth export
--format rl`, rewards from ExecutionReward's real sandbox, a checkpoint and a resumed run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodeio.cli import main
from kodeio.files import read_jsonl
from kodeio.testing.known_pairs import write_pairs


@pytest.fixture(scope="module")
def rl_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rl")
    pairs = write_pairs(root / "io.jsonl")
    out = root / "rl"
    assert main(["synth", "export", str(pairs), "--format", "rl", "-o", str(out)]) == 0
    return out


def grpo_argv(tiny_model: Path, rl_data: Path, out: Path, steps: int) -> list[str]:
    sets = {
        "train.preset": "cpu-smoke",
        "train.samples": "false",
        "train.per_device_train_batch_size": "2",
        "train.save_steps": "3",
        "train.learning_rate": "1e-4",
        "train.grpo.num_generations": "2",
        "train.grpo.max_completion_length": "12",
        "train.grpo.beta": "0.04",
        "train.grpo.reward.sandbox.workers": "2",
    }
    argv = ["train", "--method", "grpo", "--model", str(tiny_model), "--data", str(rl_data),
            "-o", str(out), "--max-steps", str(steps), "--backend", "transformers"]  # fmt: skip
    for key, value in sets.items():
        argv += ["--set", f"{key}={value}"]
    return argv


def test_grpo_trains_checkpoints_and_resumes(tiny_model: Path, rl_data: Path, tmp_path: Path):
    out = tmp_path / "grpo"
    assert main(grpo_argv(tiny_model, rl_data, out, steps=3)) == 0
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["method"] == "grpo" and summary["global_step"] == 3
    assert (out / "checkpoints" / "checkpoint-3" / "trainer_state.json").is_file()
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert (out / "reward.png").stat().st_size > 0
    steps = read_jsonl(out / "grpo_steps.jsonl")
    assert [s["step"] for s in steps] == [1, 2, 3]
    for s in steps:
        # Every completion went through the reward: 2 prompts x 2 generations per step.
        assert s["verified_rate"] is not None and 0.0 <= s["verified_rate"] <= 1.0
        assert s["reward_mean"] == pytest.approx(s["verified_rate"])
        assert s["completion_length"] > 0
    state = json.loads((out / "trainer_state.json").read_text())
    assert [e["verified_rate"] for e in state["log_history"] if "reward" in e] == [
        s["verified_rate"] for s in steps
    ]

    assert main(grpo_argv(tiny_model, rl_data, out, steps=5)) == 2  # exists: needs --resume
    # As if killed after logging step 4, before its checkpoint: step 4 is logged once again.
    with (out / "grpo_steps.jsonl").open("a") as fh:
        fh.write(json.dumps({**steps[-1], "step": 4}) + "\n")
    assert main([*grpo_argv(tiny_model, rl_data, out, steps=5), "--resume"]) == 0
    resumed = json.loads((out / "train_summary.json").read_text())
    assert resumed["global_step"] == 5
    assert resumed["resumed_from"].endswith("checkpoint-3")
    assert [s["step"] for s in read_jsonl(out / "grpo_steps.jsonl")] == [1, 2, 3, 4, 5]


def test_grpo_starts_from_init_adapter(
    tiny_model: Path, tiny_adapter: Path, rl_data: Path, tmp_path: Path
) -> None:
    """`train.init_adapter`: the policy's LoRA is the given adapter, not a fresh one. With a
    learning rate of 1e-10 one step cannot move it measurably, so the saved adapter is the
    weights the first step started from; the adapter's shape (r=8, alpha 64, q/v/o only)
    replaces the preset's."""
    import torch
    from safetensors.torch import load_file

    out = tmp_path / "grpo"
    argv = [*grpo_argv(tiny_model, rl_data, out, steps=1), "--set",
            f"train.init_adapter={tiny_adapter}", "--set", "train.learning_rate=1e-10"]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["global_step"] == 1 and summary["init_adapter"] == str(tiny_adapter)
    start = load_file(str(tiny_adapter / "adapter_model.safetensors"))
    after = load_file(str(out / "adapter" / "adapter_model.safetensors"))
    assert set(after) == set(start) and len(start) == 2 * 3 * 2  # A and B, 3 modules, 2 layers
    for key, value in start.items():
        assert torch.allclose(after[key], value, atol=1e-6), key
    # Not a fresh LoRA: PEFT initialises B to zero, the given adapter's B is random.
    assert all(after[k].abs().sum() > 0 for k in after if "lora_B" in k)
    saved = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert saved["r"] == 8 and saved["lora_alpha"] == 64
    assert sorted(saved["target_modules"]) == ["o_proj", "q_proj", "v_proj"]


LOAD_SCRIPT = """
import json, sys
import torch
from safetensors.torch import load_file
from kodeio.train.backend import (add_lora, load_base, pick_precision, select_backend,
                                  with_init_adapter_shape)
from kodeio.train.config import TrainConfig

model_dir, adapter, requested = sys.argv[1:4]
backend, _ = select_backend(requested)
config = with_init_adapter_shape(TrainConfig(
    model=model_dir, preset="cpu-smoke", init_adapter=adapter, backend=requested))
model, _, backend, _ = load_base(config, backend, 64, pick_precision(config))
model = add_lora(config, backend, model, 64)
lora = {n: p for n, p in model.named_parameters() if "lora_" in n}
saved = load_file(adapter + "/adapter_model.safetensors")
same = all(torch.equal(lora[k.replace(".weight", ".default.weight")].float(), v.float())
           for k, v in saved.items())
print("RESULT", json.dumps({"backend": backend, "tensors": len(saved), "lora": len(lora),
                            "same": same, "trainable": all(p.requires_grad for p in lora.values())}))
"""


@pytest.mark.parametrize("backend", ["transformers", "unsloth"])
def test_init_adapter_loads_trainable_on_either_backend(
    tiny_model: Path, tiny_adapter: Path, tmp_path: Path, backend: str
) -> None:
    """Both backends build the adapter's LoRA and take its weights, trainable (Unsloth's CPU
    path in a child: importing it patches transformers for the rest of the process)."""
    import subprocess
    import sys

    script = tmp_path / "load.py"
    script.write_text(LOAD_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(tiny_model), str(tiny_adapter), backend],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    assert result == {"backend": backend, "tensors": 12, "lora": 12, "same": True,
                      "trainable": True}  # fmt: skip


def test_init_adapter_of_another_shape_is_one_line(
    tiny_model: Path, rl_data: Path, tmp_path: Path, capsys
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "adapter_config.json").write_text(json.dumps({"r": 8, "target_modules": "q.*"}))
    argv = [*grpo_argv(tiny_model, rl_data, tmp_path / "o", steps=1), "--set",
            f"train.init_adapter={bad}"]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "adapter_config.json" in err and "target_modules" in err and "Traceback" not in err


def test_grpo_bad_data_is_one_line(tiny_model: Path, tmp_path: Path, capsys) -> None:
    sft = tmp_path / "sft.jsonl"
    sft.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    out = tmp_path / "o"
    assert main(grpo_argv(tiny_model, sft, out, steps=1)) == 1
    err = capsys.readouterr().err
    assert "missing key(s)" in err and "Traceback" not in err
    assert not out.exists()


def test_grpo_batch_that_cannot_hold_whole_groups_is_a_config_error(
    tiny_model: Path, rl_data: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "o"
    argv = [*grpo_argv(tiny_model, rl_data, out, steps=1), "--set", "train.grpo.num_generations=3"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "train.grpo:" in err and "num_generations" in err and "Traceback" not in err
    assert not out.exists()


def test_cpu_log_probs_match_trls_unfused_reference() -> None:
    """TorchLogProbs (CPU) against TRL's own selective_log_softmax and entropy_from_logits."""
    import torch
    from trl.trainer.utils import entropy_from_logits, selective_log_softmax

    from kodeio.train.cpu_logprobs import TorchLogProbs

    gen = torch.Generator().manual_seed(0)
    hidden = torch.randn(7, 16, generator=gen)
    weight = torch.randn(50, 16, generator=gen)
    targets = torch.randint(0, 50, (7,), generator=gen)
    logp, entropy, *_ = TorchLogProbs.apply(
        hidden, weight, None, targets, 0.7, 4096, None, 1.0, ("log_probs", "entropy")
    )
    logits = hidden @ weight.T
    assert torch.allclose(logp, selective_log_softmax(logits, targets, temperature=0.7), atol=1e-5)
    assert torch.allclose(entropy, entropy_from_logits(logits / 0.7), atol=1e-5)


def test_grpo_loads_a_known_model_name_from_the_kodeio_cache(
    tiny_model: Path, rl_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--model smollm2-135m` loads the prepared directory (offline), not a hub id of that
    name; the adapter still records the name. The cache holds the tiny model under it."""
    import shutil

    cache = tmp_path / "cache"
    prepared = cache / "models" / "smollm2-135m"
    shutil.copytree(tiny_model, prepared)
    (prepared / "kodeio_model.json").write_text(json.dumps({"format": 1}))
    monkeypatch.setenv("KODEIO_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "grpo"
    argv = grpo_argv(tiny_model, rl_data, out, steps=1)
    argv[argv.index(str(tiny_model))] = "smollm2-135m"
    assert main(argv) == 0
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == "smollm2-135m"
    assert json.loads((out / "train_summary.json").read_text())["global_step"] == 1
