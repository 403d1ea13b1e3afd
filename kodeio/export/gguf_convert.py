"""Run llama.cpp's own `convert_hf_to_gguf.py`, recognizing BPE pre-tokenizers by split rules.

This file is executed as a script in a subprocess (`python gguf_convert.py LLAMA_CPP_DIR
CONVERTER_ARGS...`), with the llama.cpp tree's `gguf-py` first on `sys.path`: the converter
must run against its own gguf-py (the PyPI `gguf` with the same version number differs).
It therefore imports nothing from kodeio; kodeio imports `classify_pre_tokenizer` from here
for its pre-flight check.

The converter identifies a BPE pre-tokenizer by hashing the ids of a fixed text, so any
changed vocabulary (say, Korean tokens added to R1-distill's) is "not recognized", although
llama.cpp implements its splitting perfectly well. When the hash is unknown, this wrapper
reads the split rules from `tokenizer.json` and answers the llama.cpp pre-tokenizer that
implements exactly those rules. llama.cpp's files are not edited: the method is wrapped at
import time in this process only.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from typing import Any

# Exit status the caller turns into "unknown tokenizer" advice.
EXIT_UNKNOWN_PRE_TOKENIZER = 3

QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _byte_level(node: dict[str, Any], use_regex: bool) -> bool:
    return (
        node.get("type") == "ByteLevel"
        and bool(node.get("use_regex", True)) is use_regex
        and not node.get("add_prefix_space", False)
    )


def _split(node: dict[str, Any], regex: str) -> bool:
    pattern = node.get("pattern") or {}
    return (
        node.get("type") == "Split"
        and pattern.get("Regex") == regex
        and node.get("behavior") == "Isolated"
        and not node.get("invert", False)
    )


def _steps(pre: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not pre:
        return []
    if pre.get("type") == "Sequence":
        return list(pre.get("pretokenizers") or [])
    return [pre]


# (llama.cpp pre-tokenizer name, test on the list of pre-tokenizer steps). Each rule is the
# exact split llama.cpp's implementation of that name performs (src/llama-vocab.cpp).
_RULES: list[tuple[str, Any]] = [
    ("qwen2", lambda s: len(s) == 2 and _split(s[0], QWEN2_SPLIT) and _byte_level(s[1], False)),
    (
        "llama-bpe",
        lambda s: len(s) == 2 and _split(s[0], LLAMA3_SPLIT) and _byte_level(s[1], False),
    ),
    (
        "smollm",
        lambda s: (
            len(s) == 2
            and s[0].get("type") == "Digits"
            and s[0].get("individual_digits") is True
            and _byte_level(s[1], True)
        ),
    ),
    ("gpt-2", lambda s: len(s) == 1 and _byte_level(s[0], True)),
]


def classify_pre_tokenizer(tokenizer_json: dict[str, Any]) -> str | None:
    """The llama.cpp pre-tokenizer name whose split rules equal this tokenizer's, or None."""
    model = tokenizer_json.get("model") or {}
    if model.get("type") not in (None, "BPE"):
        return None
    steps = _steps(tokenizer_json.get("pre_tokenizer"))
    for name, rule in _RULES:
        if rule(steps):
            return name
    return None


def describe_pre_tokenizer(tokenizer_json: dict[str, Any]) -> str:
    """A short human description of the split rules, for error messages."""
    parts = []
    for step in _steps(tokenizer_json.get("pre_tokenizer")):
        kind = step.get("type", "?")
        if kind == "Split":
            regex = (step.get("pattern") or {}).get("Regex") or (step.get("pattern") or {}).get(
                "String"
            )
            parts.append(f"Split({str(regex)[:40]}...)")
        elif kind == "ByteLevel":
            parts.append(f"ByteLevel(use_regex={step.get('use_regex', True)})")
        else:
            parts.append(kind)
    return " + ".join(parts) or "none"


def _effective_tokenizer_json(tokenizer: Any, path: Path) -> dict[str, Any]:
    """The split rules transformers really applies, which can differ from the file: e.g.
    `Qwen2Tokenizer` always rebuilds Qwen2's own regex whatever tokenizer.json says."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        try:
            return json.loads(backend.to_str())
        except (ValueError, AttributeError):
            pass
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _install_fallback() -> None:
    from conversion import base  # llama.cpp's converter package (on sys.path via the caller)

    owner = next(
        (
            cls
            for cls in base.__dict__.values()
            if isinstance(cls, type) and "get_vocab_base_pre" in cls.__dict__
        ),
        None,
    )
    if owner is None:  # a llama.cpp version that moved it: run unpatched
        return
    original = owner.get_vocab_base_pre

    def get_vocab_base_pre(self: Any, tokenizer: Any) -> str:
        try:
            return original(self, tokenizer)
        except NotImplementedError:
            path = Path(self.dir_model) / "tokenizer.json"
            data = _effective_tokenizer_json(tokenizer, path)
            name = classify_pre_tokenizer(data)
            if name is None:
                sys.stderr.write(
                    f"KODEIO_UNKNOWN_PRE_TOKENIZER {path}: {describe_pre_tokenizer(data)}\n"
                )
                sys.exit(EXIT_UNKNOWN_PRE_TOKENIZER)
            sys.stderr.write(f"KODEIO_PRE_TOKENIZER {name} (recognized by split rules)\n")
            return name

    owner.get_vocab_base_pre = get_vocab_base_pre


def main(argv: list[str]) -> None:
    llama_dir = Path(argv[0]).resolve()
    # Run as a script, this file's folder is sys.path[0]; kodeio's module names there must
    # not shadow anything the converter imports.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != here]
    # The converter's own gguf-py and its `conversion` package win over anything installed.
    sys.path[:0] = [str(llama_dir / "gguf-py"), str(llama_dir)]
    _install_fallback()
    script = llama_dir / "convert_hf_to_gguf.py"
    sys.argv = [str(script), *argv[1:]]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
