"""The base the merge reads: the 16-bit original, also for a 4-bit training model; merging onto
dequantized 4-bit weights only as an opt-in. Offline: 4-bit checkpoints are made here with
bitsandbytes, hub ids come from a Hugging Face cache built in tmp_path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from kodeio.cli import main


def _run_dir(tmp_path: Path, adapter: Path, model: str) -> Path:
    """A training run directory (RUN/adapter + RUN/config.yaml) that trained on `model`."""
    run = tmp_path / "run"
    shutil.copytree(adapter, run / "adapter")
    (run / "config.yaml").write_text(yaml.safe_dump({"model": model}), encoding="utf-8")
    return run


def _bnb_4bit(base: Path, dest: Path) -> Path:
    """`base` saved as a bitsandbytes NF4 checkpoint (what Unsloth's -bnb-4bit uploads are)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    quant = BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.float32,
    )  # fmt: skip
    model = AutoModelForCausalLM.from_pretrained(base, quantization_config=quant, device_map="cpu")
    model.save_pretrained(dest)
    AutoTokenizer.from_pretrained(base).save_pretrained(dest)
    return dest


def _hf_cache(monkeypatch: pytest.MonkeyPatch, root: Path, repos: dict[str, Path]) -> None:
    """A Hugging Face cache at `root` holding `repos` (hub id -> model directory); the hub
    itself switched off, so anything not in it fails instead of downloading."""
    from huggingface_hub import constants

    for repo_id, src in repos.items():
        repo = root / f"models--{repo_id.replace('/', '--')}"
        commit = "0" * 40
        shutil.copytree(src, repo / "snapshots" / commit)
        (repo / "refs").mkdir(parents=True)
        (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(root))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


def _tensors(directory: Path) -> dict:
    from safetensors.torch import load_file

    out = {}
    for shard in sorted(directory.glob("*.safetensors")):
        out.update(load_file(str(shard)))
    return out


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str], out: Path) -> str:
    capsys.readouterr()
    rc = main(argv)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 1 and "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()
    return lines[0]


def test_merge_onto_16bit_base_is_base_plus_scaled_b_times_a(
    tiny_model: Path, tiny_adapter: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    argv = ["export", "merged", "--adapter", str(tiny_adapter), "--base", str(tiny_model),
            "-o", str(out), "--dtype", "float32"]  # fmt: skip
    assert main(argv) == 0

    # The expected merge, from the adapter's own files (not kodeio's adapter reader).
    config = json.loads((tiny_adapter / "adapter_config.json").read_text())
    scale = config["lora_alpha"] / config["r"]
    lora = _tensors(tiny_adapter)
    base = _tensors(tiny_model)
    merged = _tensors(out / "merged")
    targets = sorted(k.removeprefix("base_model.model.").replace(".lora_A.weight", ".weight")
                     for k in lora if k.endswith(".lora_A.weight"))  # fmt: skip
    assert len(targets) == 3 * 2  # q_proj, v_proj, o_proj in each of the 2 layers
    for key in targets:
        prefix = "base_model.model." + key.removesuffix(".weight")
        a, b = lora[f"{prefix}.lora_A.weight"].double(), lora[f"{prefix}.lora_B.weight"].double()
        assert b.abs().max() > 0  # a real delta, not PEFT's zero-initialized B
        expected = base[key].double() + scale * (b @ a)
        assert (merged[key].double() - expected).abs().max() < 1e-5, key
        assert (merged[key].double() - base[key].double()).abs().max() > 1e-3, key
    for key, tensor in base.items():
        if key not in targets:
            assert merged[key].equal(tensor.to(merged[key].dtype)), key
    mb = _manifest(out)["merge_base"]
    assert mb["model"] == str(tiny_model) and mb["precision"] == "16-bit"
    assert mb["dequantized_4bit"] is False


def test_4bit_base_with_no_16bit_original_fails_in_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tiny_model: Path,
    tiny_adapter: Path,
    tmp_path: Path,
) -> None:
    # A local 4-bit directory: 4-bit by its config.json (the name says nothing), no original.
    base4 = _bnb_4bit(tiny_model, tmp_path / "quantized-base")
    run = _run_dir(tmp_path, tiny_adapter, str(base4))
    out = tmp_path / "out"
    line = _one_error_line(capsys, ["export", "all", "--run", str(run), "-o", str(out)], out)
    assert str(base4) in line and "4-bit" in line and "no known 16-bit original" in line
    assert "--base ORIGINAL" in line and "--merge-onto-4bit" in line, line

    # A -bnb-4bit hub id whose original (by the naming rule) is not in the cache, offline.
    _hf_cache(monkeypatch, tmp_path / "hf", {})
    (run / "config.yaml").write_text(yaml.safe_dump({"model": "kodeio-test/tiny-bnb-4bit"}))
    line = _one_error_line(capsys, ["export", "merged", "--run", str(run), "-o", str(out)], out)
    assert "16-bit original kodeio-test/tiny is not available" in line, line
    assert "--base ORIGINAL" in line and "--merge-onto-4bit" in line, line


def test_a_4bit_training_model_merges_onto_its_16bit_original(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tiny_model: Path,
    tiny_adapter: Path,
    tmp_path: Path,
) -> None:
    """Trained on `...-unsloth-bnb-4bit` (not even present here): the merge reads the 16-bit
    original from the HF cache and says so, and the result is the 16-bit merge."""
    _hf_cache(monkeypatch, tmp_path / "hf", {"kodeio-test/tiny": tiny_model})
    run = _run_dir(tmp_path, tiny_adapter, "kodeio-test/tiny-unsloth-bnb-4bit")
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["export", "merged", "--run", str(run), "-o", str(out), "--dtype", "float32"]) == 0
    err = capsys.readouterr().err
    assert ("merging onto the 16-bit original kodeio-test/tiny (the adapter was trained on the "
            "4-bit kodeio-test/tiny-unsloth-bnb-4bit)") in err  # fmt: skip
    mb = _manifest(out)["merge_base"]
    assert mb["model"] == "kodeio-test/tiny" and mb["dequantized_4bit"] is False
    assert mb["trained_on"] == "kodeio-test/tiny-unsloth-bnb-4bit"

    reference = tmp_path / "reference"
    argv = ["export", "merged", "--adapter", str(tiny_adapter), "--base", str(tiny_model),
            "-o", str(reference), "--dtype", "float32"]  # fmt: skip
    assert main(argv) == 0
    got, want = _tensors(out / "merged"), _tensors(reference / "merged")
    assert got.keys() == want.keys() and all(got[k].equal(want[k]) for k in want)
    assert "trained on kodeio-test/tiny-unsloth-bnb-4bit" in (out / "README.md").read_text()


def test_opt_in_merges_onto_the_dequantized_4bit_weights_with_a_warning(
    capsys: pytest.CaptureFixture[str], tiny_model: Path, tiny_adapter: Path, tmp_path: Path
) -> None:
    base4 = _bnb_4bit(tiny_model, tmp_path / "tiny-bnb-4bit")
    run = _run_dir(tmp_path, tiny_adapter, str(base4))
    out = tmp_path / "out"
    capsys.readouterr()
    argv = ["export", "merged", "--run", str(run), "-o", str(out), "--dtype", "float32",
            "--merge-onto-4bit"]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    warning = next(ln for ln in err.splitlines() if ln.startswith("warning:"))
    assert str(base4) in warning and "+20% perplexity" in warning, err
    m = _manifest(out)
    assert m["merge_base"]["precision"] == "4-bit, dequantized"
    assert m["merge_base"]["dequantized_4bit"] is True and m["merge"]["dequantized_4bit"] is True
    assert "dequantized 4-bit weights" in (out / "README.md").read_text()
    # NF4 rounding is in every merged weight: it differs from the 16-bit merge.
    from kodeio.export.merge import merge_adapter

    merge_adapter(tiny_adapter, tiny_model, tmp_path / "m16", dtype="float32")
    got, want = _tensors(out / "merged"), _tensors(tmp_path / "m16")
    key = "model.layers.0.self_attn.q_proj.weight"
    assert (got[key] - want[key]).abs().max() > 1e-4


def test_the_recipe_model_and_unsloth_names_map_to_their_originals() -> None:
    from kodeio.models import original_16bit

    recipe = "unsloth/DeepSeek-R1-Distill-Qwen-32B-unsloth-bnb-4bit"
    assert original_16bit(recipe) == "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"
    assert original_16bit("unsloth/Qwen2.5-7B-Instruct-bnb-4bit") == "unsloth/Qwen2.5-7B-Instruct"
    assert original_16bit("unsloth/Qwen2.5-7B-Instruct") is None  # not 4-bit
    assert original_16bit("/models/tiny-bnb-4bit") is None  # a directory: no rule applies
