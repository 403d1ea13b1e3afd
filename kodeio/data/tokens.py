"""Token lengths for the mix's length filter and the card's statistics.

The tokenizer is named in config: a local directory holding `tokenizer.json` (a saved HF
tokenizer or model directory), a `tokenizer.json` file, or a hub id found in the local HF
cache (never downloaded while `HF_HUB_OFFLINE=1`). Only the `tokenizers` library is used,
so the mix never imports torch or transformers.

A sample's length is the sum of its messages' content tokens plus `message_overhead`
tokens per message for the chat markup (role markers, end-of-turn tokens). The R1 chat
template strips `<think>` from assistant history, so rendering it would undercount the
reasoning that training keeps; counting contents directly does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kodeio.errors import ConfigError

TOKENIZER_FILE = "tokenizer.json"


def resolve_tokenizer_file(name: str) -> Path:
    path = Path(name).expanduser()
    if path.is_dir():
        file = path / TOKENIZER_FILE
        if not file.is_file():
            raise ConfigError(
                f"length.tokenizer: {path} has no {TOKENIZER_FILE}; expected a saved HF "
                "tokenizer directory (tokenizer.save_pretrained) or model directory"
            )
        return file
    if path.is_file():
        return path
    if path.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1:
        raise ConfigError(f"length.tokenizer: {name}: no such file or directory")
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(name, TOKENIZER_FILE))
    except Exception as exc:
        raise ConfigError(
            f"length.tokenizer: '{name}' is not a local directory and its {TOKENIZER_FILE} is "
            f"not in the HF cache nor downloadable ({type(exc).__name__}); give a local path"
        ) from None


def load_tokenizer(name: str) -> Any:
    from tokenizers import Tokenizer

    file = resolve_tokenizer_file(name)
    try:
        tokenizer = Tokenizer.from_file(str(file))
    except Exception as exc:
        raise ConfigError(
            f"length.tokenizer: {file}: not a readable tokenizers file ({type(exc).__name__})"
        ) from None
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


class TokenCounter:
    def __init__(self, name: str, message_overhead: int = 4) -> None:
        self.name = name
        self.tokenizer = load_tokenizer(name)
        self.message_overhead = message_overhead

    def count(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[int]:
        """Token length of each conversation (batched: the Rust side runs in parallel)."""
        flat = [m["content"] for conv in conversations for m in conv]
        encodings = self.tokenizer.encode_batch(flat, add_special_tokens=False)
        lengths: list[int] = []
        i = 0
        for conv in conversations:
            n = sum(len(encodings[i + j].ids) for j in range(len(conv)))
            lengths.append(n + self.message_overhead * len(conv))
            i += len(conv)
        return lengths
