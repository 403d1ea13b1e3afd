"""Tiny random-weight Qwen2 checkpoints for offline smoke tests (no hub access needed).

`build_tiny_model(out_dir)` writes a normal Hugging Face model directory:

- a random-weight `Qwen2ForCausalLM` (hidden 128, 2 layers, 4 heads -> head_dim 32, which
  vLLM-CPU accepts; 16 is rejected), float32 safetensors, `vocab_size` padded up to a
  multiple of 64 like real Qwen configs (transformers' Qwen2Tokenizer may add a token on
  reload and llama.cpp's converter needs embedding rows >= tokenizer size);
- a byte-level BPE trained on the spot on a small bundled corpus (English, Korean, code)
  with Qwen2's exact NFC normalizer + split regex, so token ids are the same after
  `AutoTokenizer.from_pretrained` rebuilds the tokenizer as `Qwen2Tokenizer`;
- DeepSeek-R1-Distill's special tokens and chat template (`chat_template="r1"`, the
  template TRL ships as `trl/chat_templates/deepseek_r1_distill.jinja`, read from the
  installed trl so TRL recognises it), or a plain ChatML family (`chat_template="chatml"`,
  SmolLM2/Qwen-style `<|im_start|>`), for code paths that handle other families;
- `generation_config.json` with bos/eos/pad ids.

The build is deterministic for given arguments (same bytes for the same seed) and takes a
few seconds. A `kodeio_tiny.json` stamp makes a second call with the same arguments a no-op.

Pytest usage (share one build per session)::

    import pytest
    from kodeio.testing.tiny import tiny_model_dir

    @pytest.fixture(scope="session")
    def tiny_model(tmp_path_factory):
        return tiny_model_dir(tmp_path_factory)            # R1-distill family

    @pytest.fixture(scope="session")
    def tiny_chatml_model(tmp_path_factory):
        return tiny_model_dir(tmp_path_factory, chat_template="chatml")

Command line: `python -m kodeio.testing.tiny OUT_DIR [--chat-template chatml]`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Literal

ChatFamily = Literal["r1", "chatml"]

# transformers.models.qwen2.tokenization_qwen2.PRETOKENIZE_REGEX, copied so this module can
# build the tokenizer without importing transformers first; test_tiny checks they agree.
QWEN2_SPLIT_REGEX = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

R1_BOS = "<｜begin▁of▁sentence｜>"
R1_EOS = "<｜end▁of▁sentence｜>"
R1_PAD = "<｜▁pad▁｜>"
R1_SPECIAL = [R1_BOS, R1_EOS, R1_PAD, "<｜User｜>", "<｜Assistant｜>"]
# In the real R1-distill vocabulary <think> and </think> are added but not "special", so
# decode(skip_special_tokens=True) keeps them; mirror that.
R1_ADDED = ["<think>", "</think>"]

CHATML_EOS = "<|im_end|>"
CHATML_BOS = "<|im_start|>"
CHATML_PAD = "<|endoftext|>"
CHATML_SPECIAL = [CHATML_PAD, CHATML_BOS, CHATML_EOS]

BPE_VOCAB_SIZE = 1024
_STAMP = "kodeio_tiny.json"
_FORMAT_VERSION = 1


def r1_chat_template() -> str:
    """The DeepSeek-R1-Distill chat template exactly as the installed TRL ships it."""
    import trl

    path = Path(trl.__file__).parent / "chat_templates" / "deepseek_r1_distill.jinja"
    return path.read_text(encoding="utf-8")


def chatml_chat_template() -> str:
    return (resources.files("kodeio").joinpath("templates/train/chatml.jinja")).read_text(
        encoding="utf-8"
    )


def _corpus_lines() -> list[str]:
    text = (resources.files("kodeio.testing") / "tiny_corpus.txt").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    # Repeat so frequent pairs dominate and the merge order is stable.
    return lines * 4


def _train_tokenizer(special: list[str], added: list[str]) -> Any:
    """A byte-level BPE with Qwen2's normalizer and pre-tokenizer (ids survive reload)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import BPE
    from tokenizers.trainers import BpeTrainer

    tok = Tokenizer(BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_SPLIT_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = BpeTrainer(
        vocab_size=BPE_VOCAB_SIZE,
        min_frequency=2,
        show_progress=False,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_corpus_lines(), trainer=trainer)
    # Added after training so they take the ids right after the BPE vocabulary, as in Qwen.
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in special])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in added])
    return tok


def _round_up(n: int, multiple: int) -> int:
    return (n + multiple - 1) // multiple * multiple


def _stamp(args: dict[str, Any]) -> dict[str, Any]:
    return {"format": _FORMAT_VERSION, **args}


def build_tiny_model(
    out_dir: Path,
    *,
    hidden_size: int = 128,
    num_layers: int = 2,
    num_heads: int = 4,
    seed: int = 0,
    chat_template: ChatFamily = "r1",
) -> Path:
    """Write a tiny random Qwen2 checkpoint + trained tokenizer to `out_dir`; return it.

    A directory already holding a build with the same arguments is returned unchanged.
    """
    out_dir = Path(out_dir)
    if hidden_size % num_heads or hidden_size // num_heads < 32:
        raise ValueError(
            f"hidden_size/num_heads must be an integer >= 32 (vLLM); got {hidden_size}/{num_heads}"
        )
    if chat_template not in ("r1", "chatml"):
        raise ValueError(f"chat_template must be 'r1' or 'chatml', got {chat_template!r}")
    args = {
        "hidden_size": hidden_size,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "seed": seed,
        "chat_template": chat_template,
    }
    stamp_path = out_dir / _STAMP
    if stamp_path.is_file():
        try:
            if json.loads(stamp_path.read_text()) == _stamp(args):
                return out_dir
        except json.JSONDecodeError:
            pass

    import torch
    from transformers import (
        GenerationConfig,
        PreTrainedTokenizerFast,
        Qwen2Config,
        Qwen2ForCausalLM,
    )

    if chat_template == "r1":
        special, added, template = R1_SPECIAL, R1_ADDED, r1_chat_template()
        bos, eos, pad = R1_BOS, R1_EOS, R1_PAD
    else:
        special, added, template = CHATML_SPECIAL, [], chatml_chat_template()
        bos, eos, pad = None, CHATML_EOS, CHATML_PAD

    raw = _train_tokenizer(special, added)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token=bos,
        eos_token=eos,
        pad_token=pad,
        unk_token=None,
        model_max_length=4096,
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = template
    n_tokens = len(tokenizer)

    config = Qwen2Config(
        vocab_size=_round_up(n_tokens + 1, 64),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=max(1, num_heads // 2),
        max_position_embeddings=4096,
        rope_theta=10000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        use_cache=True,
    )
    config.dtype = "float32"
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).to(torch.float32).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
        max_new_tokens=64,
    )

    # Build beside the target and swap in, so an interrupted build never looks complete.
    tmp = out_dir.with_name(f"{out_dir.name}.building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    _fix_tokenizer_config(tmp)
    (tmp / _STAMP).write_text(json.dumps(_stamp(args), indent=2) + "\n")
    if out_dir.exists():
        shutil.rmtree(out_dir, ignore_errors=True)
    try:
        tmp.rename(out_dir)
    except OSError:  # another process finished the same build first
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def _fix_tokenizer_config(model_dir: Path) -> None:
    """Make reload build the Qwen2 tokenizer class that real Qwen checkpoints use."""
    path = model_dir / "tokenizer_config.json"
    cfg = json.loads(path.read_text(encoding="utf-8"))
    cfg["tokenizer_class"] = "Qwen2Tokenizer"
    cfg.setdefault("add_bos_token", False)
    path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def tiny_model_dir(tmp_path_factory: Any, **kwargs: Any) -> Path:
    """A pytest helper: build (once per argument set per session) under pytest's base temp."""
    key = hashlib.sha1(json.dumps(kwargs, sort_keys=True).encode()).hexdigest()[:10]
    base = Path(tmp_path_factory.getbasetemp())
    return build_tiny_model(base / f"tiny-{key}", **kwargs)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        description="Build a tiny random Qwen2 model for offline tests."
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chat-template", choices=["r1", "chatml"], default="r1")
    ns = parser.parse_args(argv)
    out = build_tiny_model(
        ns.out_dir,
        hidden_size=ns.hidden_size,
        num_layers=ns.num_layers,
        num_heads=ns.num_heads,
        seed=ns.seed,
        chat_template=ns.chat_template,
    )
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
