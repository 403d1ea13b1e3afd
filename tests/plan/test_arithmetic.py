"""The plan's figures on a small config.json equal the same sums done by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodeio.llm.config import VllmConfig
from kodeio.plan.arithmetic import kv_bytes_per_token, lora_params, weight_bytes
from kodeio.plan.config import PlanConfig
from kodeio.plan.engine import quantization_methods
from kodeio.plan.hardware import GIB, Gpu
from kodeio.plan.model_config import load_shape
from kodeio.plan.report import StageReport
from kodeio.plan.serving import Workload, plan_serving


def test_parameter_count_and_kv_bytes(tmp_path: Path, small_total, small_model) -> None:
    shape = load_shape(str(small_model(tmp_path)))
    assert shape.total_params == small_total == 2_742_528
    assert kv_bytes_per_token(shape, 2).value == 2 * 4 * 2 * 32 * 2 == 1024
    assert kv_bytes_per_token(shape, 1).value == 512
    # r=8 on every projection: 4 layers x 8 x ((256+256) + 2 x (256+64) + (256+256) + 3 x 768)
    assert lora_params(shape, 8) == 4 * 8 * (512 + 640 + 512 + 3 * 768)


def test_weight_bytes_per_format(
    tmp_path: Path, small_linear, small_rest, small_total, small_model
) -> None:
    shape = load_shape(str(small_model(tmp_path)))
    assert weight_bytes(shape, "bfloat16").value * GIB == pytest.approx(small_total * 2)
    assert weight_bytes(shape, "fp8").value * GIB == pytest.approx(small_linear + small_rest * 2)
    # AWQ/GPTQ group 128: 4 bits + a 16-bit scale and a 4-bit zero per 128 weights.
    int4 = small_linear * (0.5 + 2.5 / 128) + small_rest * 2
    assert int4 == 2_186_240
    assert weight_bytes(shape, "int4").value * GIB == pytest.approx(int4)


def test_nf4_counts_skipped_modules_in_16_bit(
    tmp_path: Path, small_linear, small_rest, small_model
) -> None:
    quant = {"quant_method": "bitsandbytes", "bnb_4bit_use_double_quant": True,
             "llm_int8_skip_modules": ["lm_head", "model.layers.0.mlp.down_proj"]}  # fmt: skip
    shape = load_shape(str(small_model(tmp_path, quantization_config=quant)))
    skipped = 512 * 256  # layer 0's down_proj stays bf16
    per = 0.5 + 1 / 64 + 4 / (64 * 256)
    expected = (small_linear - skipped) * per + (skipped + small_rest) * 2
    assert weight_bytes(shape, "nf4").value * GIB == pytest.approx(expected)


def test_sequences_that_fit(tmp_path: Path, small_model) -> None:
    shape = load_shape(str(small_model(tmp_path)))
    gpu = Gpu("t", "test card", GIB, 100.0, 10.0, "test")
    rep = StageReport("synth")
    vllm = VllmConfig(gpu_memory_utilization=0.5, max_model_len=4096, max_num_seqs=4)
    cfg = PlanConfig(recipe=tmp_path / "r.yaml", overhead_gb=0, prompt_tokens=0)
    plan_serving(rep, shape, vllm, Workload(10, 1024, "10 requests"), gpu, cfg, None)
    # (0.5 GiB - 5,485,056 B of bf16 weights) / 1,024 B per token = 518,931.5 -> 518,928
    # in blocks of 16; // 4,096 = 126 full-length sequences.
    figures = {f.label: f.value for f in rep.figures}
    assert figures["KV cache tokens"] == 518_928
    assert figures["full-length sequences at once (max_model_len 4,096)"] == 126
    assert figures["sequences of mean length at once"] == 518_928 // 512
    assert rep.problems == []
    # 4 sequences x 100 GB/s / (5,485,056 B + 4 x 256 tokens x 1,024 B), below the compute
    # cap of 10 TFLOPS / (2 x 2,742,528).
    ceiling = rep.figure("decode ceiling at 4")
    assert ceiling is not None
    assert ceiling.value == pytest.approx(4 * 100e9 / (5_485_056 + 4 * 256 * 1024))


def test_quantization_list_is_read_from_source() -> None:
    source = 'from typing import Literal\nQuantizationMethods = Literal["awq", "fp8"]\nX = 1\n'
    assert quantization_methods(source) == {"awq", "fp8"}
    assert quantization_methods("X = 1\n") is None


def test_no_route_to_the_hub_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from kodeio.errors import ConfigError
    from kodeio.plan.model_config import find_config

    def no_dns(*args: object) -> None:
        raise OSError("Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr("huggingface_hub.try_to_load_from_cache", lambda *a, **k: None)
    with pytest.raises(ConfigError, match=r"nobody/nothing: .* cannot be resolved") as err:
        find_config("nobody/nothing", offline=False)
    assert "\n" not in str(err.value)
    # A shipped copy is found without the Hub.
    cfg, source = find_config("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", offline=False)
    assert cfg["num_key_value_heads"] == 8 and "kodeio's copy" in source
