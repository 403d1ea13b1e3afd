"""Shared fixtures: a tiny Qwen2 base, an overfit LoRA adapter on it, and one full export.

Parity needs an overfit model: random weights have near-tie logits where f16 rounding alone
flips greedy choices. A LoRA trained a few dozen steps on three fixed conversations makes
the greedy continuation of those prompts decisive.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

PROMPTS = ["What is 12 + 30?", "Reverse the string 'abc'.", "한국의 수도는?"]
# The R1 generation prompt already ends with "<think>\n".
ANSWERS = [
    "12 + 30 = 42.\n</think>\n\nThe answer is 42.",
    "Reversed: 'cba'.\n</think>\n\n'cba'",
    "서울입니다.\n</think>\n\n서울",
]


def train_adapter(base_dir: Path, run_dir: Path, steps: int = 40, seed: int = 0) -> Path:
    """Plain-torch LoRA SFT on PROMPTS/ANSWERS; writes RUN/adapter and RUN/config.yaml."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    lora = LoraConfig(
        r=16,
        lora_alpha=32,
        target_modules=[
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ],
        lora_dropout=0.0,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    rows = []
    for p, a in zip(PROMPTS, ANSWERS, strict=True):
        text = tok.apply_chat_template(
            [{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True
        )
        rows.append(tok(text + a + tok.eos_token, add_special_tokens=False)["input_ids"])
    width = max(map(len, rows))
    ids = torch.tensor([r + [tok.pad_token_id] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    labels = ids.masked_fill(mask == 0, -100)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    adapter = run_dir / "adapter"
    model.save_pretrained(adapter)
    tok.save_pretrained(adapter)
    (run_dir / "config.yaml").write_text(
        yaml.safe_dump(
            {"model": str(base_dir), "train": {"dataset": "tests/export/toy", "max_steps": steps}}
        )
    )
    return run_dir


@pytest.fixture(scope="session")
def parity_prompts() -> list[str]:
    """The prompts the full export's parity check decodes (the adapter was trained on them)."""
    return list(PROMPTS)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kodeio.testing.tiny import build_tiny_model

    # hidden 256: rows that are multiples of 256, so q4_k_m really uses Q4_K/Q6_K blocks.
    return build_tiny_model(tmp_path_factory.mktemp("base") / "tiny", hidden_size=256, num_heads=4)


@pytest.fixture(scope="session")
def tiny_run(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_adapter(tiny_base, tmp_path_factory.mktemp("run") / "tiny-run")


@pytest.fixture(scope="session")
def full_export(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`kodeio export all` through the real CLI: f16, q8_0, q4_k_m, parity on."""
    from kodeio.cli import main

    out = tmp_path_factory.mktemp("export") / "out"
    rc = main(
        [
            "export", "all", "--run", str(tiny_run), "-o", str(out),
            "--quant", "f16,q8_0,q4_k_m", "--verify",
            "--set", f"verify_prompts={PROMPTS!r}", "--set", "max_shard_size=600KB",
        ]
    )  # fmt: skip
    assert rc == 0
    return out
