"""Ollama Modelfiles that carry the right chat template and stop tokens.

A GGUF run without its end-of-turn token as a stop generates forever, the most reported
problem with fine-tuned GGUFs in Ollama. Each Modelfile names the chat format's Go template
(files under kodeio/templates/export/ollama/), every end-of-turn token as a stop, and the
default system prompt the HF chat template would insert.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

# family -> (template file, end-of-turn tokens, temperature, context)
FAMILIES: dict[str, tuple[str, tuple[str, ...], float, int]] = {
    "r1": ("r1.tmpl", ("<｜end▁of▁sentence｜>", "<｜User｜>"), 0.6, 8192),
    "chatml": ("chatml.tmpl", ("<|im_end|>", "<|im_start|>", "<|endoftext|>"), 0.7, 4096),
}


def _template(name: str) -> str:
    return (
        resources.files("kodeio").joinpath(f"templates/export/{name}").read_text(encoding="utf-8")
    )


def read_chat_template(model_dir: Path) -> str:
    jinja_file = model_dir / "chat_template.jinja"
    if jinja_file.is_file():
        return jinja_file.read_text(encoding="utf-8")
    cfg = model_dir / "tokenizer_config.json"
    if cfg.is_file():
        value = json.loads(cfg.read_text(encoding="utf-8")).get("chat_template")
        if isinstance(value, str):
            return value
    return ""


def chat_family(chat_template: str) -> str | None:
    if "<｜Assistant｜>" in chat_template:
        return "r1"
    if "<|im_start|>" in chat_template:
        return "chatml"
    return None


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


def default_system_prompt(model_dir: Path, family: str | None) -> str | None:
    """The system prompt the HF template inserts when the user gives none (SmolLM2 has one)."""
    if family != "chatml":
        return None
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    text = tok.apply_chat_template(
        [{"role": "user", "content": "x"}], tokenize=False, add_generation_prompt=False
    )
    head = "<|im_start|>system\n"
    if text.startswith(head) and "<|im_end|>" in text:
        return text[len(head) : text.index("<|im_end|>")]
    return None


def write_modelfile(model_dir: Path, gguf_path: Path, name: str) -> Path | None:
    """Write `<gguf stem>.Modelfile` beside the GGUF; None when the chat format is unknown."""
    chat = read_chat_template(model_dir)
    family = chat_family(chat)
    cfg_path = model_dir / "tokenizer_config.json"
    tok_cfg = json.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.is_file() else {}
    eos = _token_text(tok_cfg.get("eos_token"))
    out = gguf_path.with_suffix(".Modelfile")
    if family is None:
        template, stops, temperature, num_ctx = "{{ .Prompt }}", (), 0.7, 4096
    else:
        file, stops, temperature, num_ctx = FAMILIES[family]
        template = _template(f"ollama/{file}").rstrip("\n")
        bos = _token_text(tok_cfg.get("bos_token"))
        # R1's HF template starts with the BOS token; llama.cpp adds it itself only when the
        # tokenizer says add_bos_token, so otherwise it must be in the Ollama template.
        if family == "r1" and bos and "bos_token" in chat and not tok_cfg.get("add_bos_token"):
            template = bos + template
    all_stops = list(dict.fromkeys([*stops, *([eos] if eos else [])]))
    env = jinja2.Environment(keep_trailing_newline=True, autoescape=False)
    text = env.from_string(_template("Modelfile.jinja")).render(
        family=family or "raw",
        name=name,
        modelfile=out.name,
        gguf=gguf_path.name,
        template=template,
        system=default_system_prompt(model_dir, family),
        stops=all_stops,
        temperature=temperature,
        num_ctx=num_ctx,
    )
    out.write_text(text, encoding="utf-8")
    return out
