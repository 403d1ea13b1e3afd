"""`kodeio plan` through the real CLI: one line and a non-zero exit when a stage cannot run,
and both GPU recipes pass for the hardware they name, offline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kodeio.llm.config import VllmConfig
from kodeio.llm.vllm_backend import engine_kwargs

ROOT = Path(__file__).resolve().parents[2]


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_kv_cache_too_small_names_the_longest_model_len(
    tmp_path: Path, kodeio_plan, recipe, small_model
) -> None:
    model = small_model(tmp_path)
    path = recipe(tmp_path, str(model), {"max_model_len": 4096, "max_num_seqs": 1})
    proc = kodeio_plan(tmp_path, "-c", str(path), "--vram-gb", "0.008", "--overhead-gb", "0")
    assert proc.returncode != 0
    line = one_error_line(proc.stderr)
    # 0.008 GiB x 0.9 - 5,485,056 B of weights = 2,245,885 B / 1,024 B per token -> 2,192.
    assert line.startswith("error: synth: the KV cache holds 2,192 tokens"), line
    assert "largest max_model_len that fits: 2,192" in line


def test_too_many_sequences_names_the_largest_max_num_seqs(
    tmp_path: Path, kodeio_plan, recipe, small_model
) -> None:
    model = small_model(tmp_path)
    path = recipe(tmp_path, str(model), {"max_model_len": 2048, "max_num_seqs": 64})
    proc = kodeio_plan(tmp_path, "-c", str(path), "--vram-gb", "0.02", "--overhead-gb", "0")
    line = one_error_line(proc.stderr)
    # 0.02 GiB x 0.9 = 19,327,352 B - 5,485,056 = 13,842,296 B / 1,024 -> 13,504 tokens;
    # the mean sequence is 1,024 prompt + 0.5 x 1,024 = 1,536 tokens: 8 fit.
    assert proc.returncode != 0
    assert "max_num_seqs=64" in line and "largest max_num_seqs that fits: 8" in line, line


@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="no vLLM installed")
def test_quantization_the_installed_vllm_lacks(
    tmp_path: Path, kodeio_plan, recipe, small_model
) -> None:
    model = small_model(tmp_path)
    path = recipe(tmp_path, str(model), {"quantization": "bitsandbytes", "max_model_len": 2048})
    proc = kodeio_plan(tmp_path, "-c", str(path), "--gpu", "h100")
    assert proc.returncode != 0
    line = one_error_line(proc.stderr)
    assert "synth:" in line and "no quantization method 'bitsandbytes'" in line, line


def test_model_config_nowhere_offline_is_one_line(tmp_path: Path, kodeio_plan, recipe) -> None:
    path = recipe(tmp_path, "nobody/no-such-model", {"max_model_len": 2048})
    proc = kodeio_plan(tmp_path, "-c", str(path), "--gpu", "4090")
    assert proc.returncode != 0
    line = one_error_line(proc.stderr)
    assert "nobody/no-such-model" in line and "config.json is not in the HF cache" in line


@pytest.mark.parametrize(
    ("name", "gpu", "disk", "expect"),
    [
        ("r1-distill-32b-ko.yaml", "4090", "320", "weights (4-bit, AWQ/GPTQ): 18.00 GiB"),
        ("r1-distill-32b-ko-h100.yaml", "h100", "300", "weights (fp8): 31.96 GiB"),
        ("r1-distill-32b-ko-h100.yaml", "h200", "300", "weights (fp8): 31.96 GiB"),
    ],
)
def test_gpu_recipes_pass_their_plan(
    tmp_path: Path, name: str, gpu: str, disk: str, expect: str, kodeio_plan
) -> None:
    proc = kodeio_plan(tmp_path, "-c", str(ROOT / "configs" / name), "--gpu", gpu,
                       "--disk-gb", disk)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert expect in proc.stdout
    assert "KV cache per token: 131,072 bytes" in proc.stdout  # fp8: 2 x 64 x 8 x 128 x 1 B
    assert "✗" not in proc.stdout


def test_the_4090_recipe_did_not_fit_as_it_was(tmp_path: Path, kodeio_plan) -> None:
    """The recipe before issue #21: bitsandbytes serving and a 12,288-token bf16 KV cache."""
    proc = kodeio_plan(
        tmp_path, "-c", str(ROOT / "configs" / "r1-distill-32b-ko.yaml"), "--gpu", "4090",
        "--set", "synth.model=unsloth/DeepSeek-R1-Distill-Qwen-32B-unsloth-bnb-4bit",
        "--set", "synth.vllm={quantization: bitsandbytes, max_model_len: 12288, "
        "gpu_memory_utilization: 0.92}",
    )  # fmt: skip
    assert proc.returncode != 0
    assert "full-length sequences at once (max_model_len 12,288): 0 sequences" in proc.stdout


def test_new_vllm_keys_reach_the_engine() -> None:
    cfg = VllmConfig(kv_cache_dtype="fp8", max_num_seqs=6, enable_prefix_caching=True)
    gpu = engine_kwargs("m", cfg, seed=1, on_gpu=True)
    assert gpu["kv_cache_dtype"] == "fp8" and gpu["max_num_seqs"] == 6
    assert gpu["enable_prefix_caching"] is True
    plain = engine_kwargs("m", VllmConfig(), seed=1, on_gpu=True)
    assert not {"kv_cache_dtype", "max_num_seqs", "enable_prefix_caching"} & set(plain)


def test_export_disk_counts_the_16bit_original_the_merge_reads(tmp_path: Path, kodeio_plan) -> None:
    """Without export.base the plan finds the 16-bit original of the 4-bit training model, as
    `kodeio export` does; with merge_onto_4bit it is not downloaded. The f16 GGUF is staged
    (the quantizer's input for q8_0 and the k-quants) and deleted after."""
    recipe = str(ROOT / "configs" / "r1-distill-32b-ko.yaml")
    args = ["-c", recipe, "--gpu", "4090", "--disk-gb", "1000", "--set", "export.base=null"]
    proc = kodeio_plan(tmp_path, *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    original = "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"
    assert f"export · {original}" in proc.stdout
    assert f"the merge reads the 16-bit original {original}" in proc.stdout
    assert f"65.5 {original}]" in proc.stdout  # the third download
    assert "model downloads (HF cache): 104.07 GB" in proc.stdout
    assert "export peak staging: 209.53 GB" in proc.stdout
    assert "gguf f16 (the quantizer's input, deleted after the last quantization)" in proc.stdout
    assert "export published: 144.00 GB  [209.5 peak - 65.5 intermediates deleted]" in proc.stdout

    proc = kodeio_plan(tmp_path, *args, "--set", "export.merge_onto_4bit=true")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "export · unsloth/DeepSeek-R1-Distill-Qwen-32B-unsloth-bnb-4bit" in proc.stdout
    assert "model downloads (HF cache): 38.54 GB" in proc.stdout
