"""Streaming merge correctness: merged logits equal the PEFT model's; 4-bit bases dequantize."""

from __future__ import annotations

import json
from pathlib import Path


def _logits_close(base: Path, adapter: Path, merged: Path) -> float:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    peft = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), adapter
    ).eval()
    flat = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    ids = torch.randint(0, flat.config.vocab_size - 64, (3, 17))
    with torch.inference_mode():
        return float((peft(input_ids=ids).logits - flat(input_ids=ids).logits).abs().max())


def test_merged_logits_equal_peft_model(tiny_base: Path, tiny_run: Path, tmp_path: Path) -> None:
    from kodeio.export.merge import merge_adapter

    out = tmp_path / "merged"
    info = merge_adapter(
        tiny_run / "adapter", tiny_base, out, dtype="float32", max_shard_size="300KB"
    )
    assert info["merged_modules"] == 14 and info["shards"] > 1
    index = json.loads((out / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) == info["shards"]
    assert _logits_close(tiny_base, tiny_run / "adapter", out) < 1e-4


def test_dora_rslora_and_rank_pattern_merge_like_peft(tiny_base: Path, tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from kodeio.export.merge import merge_adapter

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_base, dtype=torch.float32)
    cfg = LoraConfig(
        r=8, lora_alpha=16, use_rslora=True, use_dora=True,
        target_modules=["q_proj", "v_proj", "down_proj"], rank_pattern={"down_proj": 4},
        alpha_pattern={"v_proj": 4}, task_type="CAUSAL_LM",
    )  # fmt: skip
    peft = get_peft_model(model, cfg)
    with torch.no_grad():  # PEFT starts B at zero; make the delta (and DoRA rescale) real
        for name, p in peft.named_parameters():
            if "lora_B" in name or "lora_magnitude" in name:
                p.add_(torch.randn_like(p) * 0.05)
    adapter = tmp_path / "dora"
    peft.save_pretrained(adapter)
    out = tmp_path / "merged"
    merge_adapter(adapter, tiny_base, out, dtype="float32")
    assert _logits_close(tiny_base, adapter, out) < 1e-4


def test_bnb_4bit_dequantization_matches_bitsandbytes() -> None:
    import bitsandbytes as bnb
    import torch

    from kodeio.export.merge import dequantize_bnb_4bit

    torch.manual_seed(0)
    cases = [((96, 256), "nf4", True), ((128, 64), "fp4", False), ((64, 192), "nf4", False)]
    for shape, quant_type, nested in cases:
        w = torch.randn(*shape)
        packed, state = bnb.functional.quantize_4bit(
            w, blocksize=64, quant_type=quant_type, compress_statistics=nested
        )
        expected = bnb.functional.dequantize_4bit(packed, state).float()
        parts = state.as_dict(packed=True)  # exactly what a -bnb-4bit checkpoint stores
        key = next(k for k in parts if k.startswith("quant_state."))
        ours = dequantize_bnb_4bit(packed, lambda s, p=parts: p.get(s), parts[key])
        assert torch.equal(ours, expected), (shape, quant_type, nested)
        assert (ours - w).abs().mean() < 0.1


def test_bnb_4bit_rows_not_a_multiple_of_the_block() -> None:
    """bitsandbytes 0.50's own CPU dequantize mis-scales blocks here; ours stays accurate."""
    import bitsandbytes as bnb
    import torch

    from kodeio.export.merge import dequantize_bnb_4bit

    torch.manual_seed(0)
    w = torch.randn(64, 160)
    packed, state = bnb.functional.quantize_4bit(w, blocksize=64, quant_type="nf4")
    parts = state.as_dict(packed=True)
    key = next(k for k in parts if k.startswith("quant_state."))
    ours = dequantize_bnb_4bit(packed, lambda s, p=parts: p.get(s), parts[key])
    blocks = w.reshape(-1, 64).abs().amax(dim=1)
    assert (ours.reshape(-1, 64).abs().amax(dim=1) - blocks).abs().max() < 1e-4  # absmax kept
    assert (ours - w).abs().mean() < 0.1


def test_merge_into_a_bnb_4bit_base(tiny_base: Path, tiny_run: Path, tmp_path: Path) -> None:
    """A -bnb-4bit base is dequantized tensor by tensor; the result equals PEFT on the
    bitsandbytes-dequantized base."""
    import bitsandbytes as bnb
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    from kodeio.export.merge import merge_adapter

    quant = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.float32,
    )
    q_model = AutoModelForCausalLM.from_pretrained(
        tiny_base, quantization_config=quant, device_map="cpu"
    )
    base4 = tmp_path / "base-bnb-4bit"
    q_model.save_pretrained(base4)
    assert json.loads((base4 / "config.json").read_text())["quantization_config"]["load_in_4bit"]

    # Reference base: every 4-bit weight dequantized by bitsandbytes itself.
    state = {}
    for name, module in q_model.named_modules():
        if isinstance(module, bnb.nn.Linear4bit):
            state[f"{name}.weight"] = bnb.functional.dequantize_4bit(
                module.weight.data, module.weight.quant_state
            ).float()
    from safetensors import safe_open

    with safe_open(str(base4 / "model.safetensors"), framework="pt") as fh:
        for name in fh.keys():  # noqa: SIM118
            if name not in state and name.endswith((".weight", ".bias")):
                state[name] = fh.get_tensor(name).float()
    deq = tmp_path / "base-dequantized"
    deq.mkdir()
    save_file({k: v.contiguous() for k, v in state.items()}, str(deq / "model.safetensors"))
    cfg = json.loads((tiny_base / "config.json").read_text())
    (deq / "config.json").write_text(json.dumps(cfg))

    out = tmp_path / "merged"
    info = merge_adapter(tiny_run / "adapter", base4, out, dtype="float32")
    assert info["dequantized_4bit"] and info["merged_modules"] == 14
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    assert _logits_close(deq, tiny_run / "adapter", out) < 1e-4
