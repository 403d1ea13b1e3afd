"""Before/after generations on fixed prompts, written to OUTPUT/samples.md.

The brief asks to see the base model and the adapter answer the same prompts: a CodeI/O
output-prediction item, a ko->en translation and a medical question (bundled in
`kodeio/templates/train/sample_prompts.jsonl`; override with train.sample_prompts).
Generation is greedy and short so it stays cheap on CPU.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.train.data import check_messages


def load_sample_prompts(path: Path | None) -> list[dict[str, Any]]:
    from kodeio.files import iter_jsonl

    if path is None:
        path = Path(str(resources.files("kodeio").joinpath("templates/train/sample_prompts.jsonl")))
    rows = []
    for lineno, row in iter_jsonl(path, required=["id", "messages"]):
        messages = row["messages"]
        if not isinstance(messages, list) or not messages or messages[-1].get("role") != "user":
            raise InputError(
                f"{path}:{lineno}: 'messages' must end with a user turn (the prompt to answer)"
            )
        # Validate roles/content with the training checks, minus the assistant-turn rule.
        check_messages([*messages, {"role": "assistant", "content": "x"}], f"{path}:{lineno}")
        rows.append({"id": str(row["id"]), "messages": messages})
    if not rows:
        raise InputError(f"{path}: no sample prompts")
    return rows


def generate(
    model: Any, tokenizer: Any, prompts: list[dict[str, Any]], max_new_tokens: int
) -> list[str]:
    """Greedy completions (special tokens kept out, <think> kept) for each prompt."""
    import torch

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    outputs = []
    try:
        for row in prompts:
            enc = tokenizer.apply_chat_template(
                row["messages"], add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            enc = {k: v.to(device) for k, v in enc.items()}
            with torch.no_grad():
                out = model.generate(
                    **enc,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=tokenizer.eos_token_id,
                )
            new = out[0, enc["input_ids"].shape[1] :]
            outputs.append(tokenizer.decode(new, skip_special_tokens=True))
    finally:
        model.train(was_training)
    return outputs


def render_samples(
    prompts: list[dict[str, Any]], before: list[str] | None, after: list[str], model: str
) -> str:
    lines = [f"# Before/after samples\n\nBase model: `{model}`. Greedy decoding.\n"]
    for i, row in enumerate(prompts):
        lines.append(f"## {row['id']}\n")
        lines.append("**Prompt**\n\n```text\n" + row["messages"][-1]["content"] + "\n```\n")
        if before is not None:
            lines.append("**Before (base model)**\n\n```text\n" + before[i] + "\n```\n")
        lines.append("**After (with adapter)**\n\n```text\n" + after[i] + "\n```\n")
    return "\n".join(lines)
