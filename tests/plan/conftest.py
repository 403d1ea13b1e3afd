"""Fixtures of the plan tests: a small Llama-shaped config.json and recipes around it, with
hand-computed sizes, and `kodeio plan` run offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KODEIO = [sys.executable, "-m", "kodeio.cli"]

# hidden 256, 4 layers, 8 heads of 32, 2 KV heads, MLP 512, vocab 1000, untied, bf16.
SMALL = {
    "model_type": "llama",
    "hidden_size": 256,
    "num_hidden_layers": 4,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "head_dim": 32,
    "intermediate_size": 512,
    "vocab_size": 1000,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "max_position_embeddings": 4096,
}
# Per layer: q 256x256 + k 256x64 + v 256x64 + o 256x256 + 3 x 256x512 = 557,056.
LINEAR = 4 * 557_056  # 2,228,224
REST = 2 * 1000 * 256 + 4 * 2 * 256 + 256  # embeddings + LM head, norms: 514,304
TOTAL = LINEAR + REST  # 2,742,528


def _small_model(root: Path, **changes: object) -> Path:
    path = root / "small"
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps({**SMALL, **changes}))
    return path


def _recipe(root: Path, model: str, synth_vllm: dict, **sections: dict) -> Path:
    tree = {
        "run_dir": str(root / "run"),
        "model": model,
        "synth": {
            "backend": "vllm",
            "max_pairs": 10,
            "vllm": synth_vllm,
            "sampling": {"max_tokens": 1024},
        },  # fmt: skip
        "train": {"max_seq_length": 256},
        **sections,
    }
    path = root / "recipe.yaml"
    path.write_text(yaml.safe_dump(tree))
    return path


def _kodeio_plan(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(root / "hf-home"),  # an empty cache: only kodeio's copies are found
    }
    return subprocess.run(
        [*KODEIO, "plan", *args], capture_output=True, text=True, env=env, cwd=root, timeout=300
    )


@pytest.fixture(scope="session")
def small_linear() -> int:
    """Parameters in the small model's linear layers (what quantization shrinks)."""
    return LINEAR


@pytest.fixture(scope="session")
def small_rest() -> int:
    """Parameters outside them: embeddings, LM head and norms."""
    return REST


@pytest.fixture(scope="session")
def small_total() -> int:
    return TOTAL


@pytest.fixture(scope="session")
def small_model() -> Callable[..., Path]:
    """`small_model(root, **changes)`: the small config.json (with `changes`) in root/small."""
    return _small_model


@pytest.fixture(scope="session")
def recipe() -> Callable[..., Path]:
    """`recipe(root, model, synth_vllm, **sections)`: a recipe.yaml around `model`."""
    return _recipe


@pytest.fixture(scope="session")
def kodeio_plan() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`kodeio_plan(root, *args)`: `kodeio plan` in a child, offline, with an empty HF cache."""
    return _kodeio_plan
