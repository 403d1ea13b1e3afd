"""Bad inputs: one clear line, a non-zero exit, no traceback, nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kodeio.cli import main


def _fails(capsys: pytest.CaptureFixture[str], argv: list[str], out: Path, code: int = 1) -> str:
    capsys.readouterr()  # drop whatever set-up printed
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == code, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()
    return lines[0]


def test_missing_adapter(
    capsys: pytest.CaptureFixture[str], tiny_base: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    line = _fails(
        capsys,
        [
            "export",
            "all",
            "--adapter",
            str(tmp_path / "nope"),
            "--base",
            str(tiny_base),
            "-o",
            str(out),
        ],
        out,
    )
    assert "nope" in line and "adapter directory not found" in line


def test_adapter_for_another_base(
    capsys: pytest.CaptureFixture[str], tiny_base: Path, tmp_path: Path
) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from kodeio.testing.tiny import build_tiny_model

    other = build_tiny_model(tmp_path / "other", hidden_size=128, num_heads=4)
    model = AutoModelForCausalLM.from_pretrained(other, dtype=torch.float32)
    peft = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj"], task_type="CAUSAL_LM"))
    peft.save_pretrained(tmp_path / "adapter")
    out = tmp_path / "out"
    line = _fails(
        capsys,
        [
            "export",
            "merged",
            "--adapter",
            str(tmp_path / "adapter"),
            "--base",
            str(tiny_base),
            "-o",
            str(out),
        ],
        out,
    )
    assert "different base model" in line and "q_proj" in line


def test_unknown_quant_name(
    capsys: pytest.CaptureFixture[str], tiny_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    line = _fails(
        capsys,
        ["export", "gguf", "--run", str(tiny_run), "-o", str(out), "--quant", "f16,q4_k_x"],
        out,
        code=2,
    )
    assert "q4_k_x" in line and "q4_k_m" in line  # names the bad one and the choices


def test_unknown_tokenizer(
    capsys: pytest.CaptureFixture[str], tiny_base: Path, tiny_run: Path, tmp_path: Path
) -> None:
    adapter = tmp_path / "adapter"
    shutil.copytree(tiny_run / "adapter", adapter)
    tok_path = adapter / "tokenizer.json"
    tok = json.loads(tok_path.read_text(encoding="utf-8"))
    # A split rule llama.cpp implements under no name (and a vocabulary it has never hashed).
    tok["pre_tokenizer"] = {
        "type": "Sequence",
        "pretokenizers": [
            {
                "type": "Split",
                "pattern": {"Regex": "[a-z]+|[0-9]{1,2}|\\s+|."},
                "behavior": "Isolated",
                "invert": False,
            },
            {
                "type": "ByteLevel",
                "add_prefix_space": False,
                "trim_offsets": False,
                "use_regex": False,
            },
        ],
    }
    tok_path.write_text(json.dumps(tok, ensure_ascii=False), encoding="utf-8")
    cfg_path = adapter / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["tokenizer_class"] = "TokenizersBackend"  # generic: transformers applies these rules
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    # On a Llama-architecture base. (For a qwen2 model transformers 5 always rebuilds
    # Qwen2Tokenizer with Qwen2's own regex, so any Qwen2-family BPE converts as qwen2.)
    base = tmp_path / "llama-base"
    shutil.copytree(tiny_base, base)
    model_cfg = json.loads((base / "config.json").read_text())
    model_cfg.update(model_type="llama", architectures=["LlamaForCausalLM"], attention_bias=True)
    (base / "config.json").write_text(json.dumps(model_cfg))
    out = tmp_path / "out"
    argv = ["export", "gguf", "--adapter", str(adapter), "--base", str(base), "-o", str(out)]
    line = _fails(capsys, argv, out)
    assert "unknown tokenizer" in line and "tokenizer.json" in line and "--llama-cpp" in line


def test_no_token_for_push(
    capsys: pytest.CaptureFixture[str],
    tiny_run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no login cache either
    out = tmp_path / "out"
    line = _fails(
        capsys,
        ["export", "adapter", "--run", str(tiny_run), "-o", str(out), "--push-to-hub", "me/model"],
        out,
    )
    assert "HF_TOKEN" in line
