"""Which base the adapter is merged onto: the 16-bit original, also for a 4-bit training model.

A LoRA trained on a bitsandbytes 4-bit checkpoint (Unsloth's `-bnb-4bit` uploads) learned a
correction to the NF4-rounded weights, but merging it into those dequantized weights bakes
the 4-bit rounding into every output weight: unsloth-zoo measured about +20% perplexity on
Qwen2.5-0.5B doing that (PR #810; Unsloth issues #1519, #2374), and its `merged_16bit` now
merges onto the original 16-bit weights and refuses an NF4-only base. kodeio does the same:
a 4-bit base is swapped for its 16-bit original (explicit `base`, else the registry in
`kodeio.models`, else Unsloth's naming rule), and merging onto the dequantized 4-bit weights
is an explicit opt-in (`merge_onto_4bit`) with a warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kodeio.errors import InputError

PERPLEXITY_COST = "about +20% perplexity (unsloth-zoo PR #810, Qwen2.5)"


@dataclass(frozen=True)
class MergeBase:
    """The base the merge reads, and why."""

    arg: str  # the name or path it was given as
    dir: Path
    dequantized_4bit: bool  # merged onto dequantized 4-bit weights (the opt-in)
    training_model: str  # the base the adapter was trained on, as named by the run/adapter
    note: str  # the one line the stage prints


def is_4bit_config(model_dir: Path) -> bool:
    """config.json names a bitsandbytes 4-bit quantization."""
    try:
        cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False  # BaseCheckpoint reports a missing or broken config.json
    quant = cfg.get("quantization_config") or {}
    if quant.get("quant_method") != "bitsandbytes":
        return False
    return bool(quant.get("load_in_4bit") or quant.get("bnb_4bit_quant_type"))


def _hint(source: str) -> str:
    return (
        f"pass --base ORIGINAL (the 16-bit model {source} was quantized from; config "
        f"export.base), or --merge-onto-4bit to merge onto the dequantized 4-bit weights at "
        f"{PERPLEXITY_COST}"
    )


def resolve_merge_base(source: str, merge_onto_4bit: bool, training_model: str) -> MergeBase:
    """The base to merge onto, given `source` (export.base, else the run's model, else the
    adapter's base_model_name_or_path); raises InputError in one line when a 4-bit source
    has no 16-bit original here.

    A 4-bit `source` given as export.base is treated like any other (`kodeio run` fills
    export.base with the recipe's model): its original is looked up, the opt-in keeps it.
    """
    from kodeio.models import is_4bit_name, original_16bit, resolve_model_dir

    # A `-bnb-4bit` name is known to be 4-bit without resolving it (its checkpoint may not
    # even be here: only the original is needed).
    source_dir = None if is_4bit_name(source) else resolve_model_dir(source)
    if source_dir is not None and not is_4bit_config(source_dir):
        note = f"merging onto {source} (not quantized)"
        return MergeBase(source, source_dir, False, training_model, note)
    if merge_onto_4bit:
        source_dir = source_dir or resolve_model_dir(source)
        note = (
            f"warning: merging onto the dequantized 4-bit weights of {source} "
            f"(--merge-onto-4bit): {PERPLEXITY_COST} against a merge onto its 16-bit original"
        )
        return MergeBase(source, source_dir, True, training_model, note)
    original = original_16bit(source)
    if original is None:
        raise InputError(f"base {source}: a 4-bit (bitsandbytes) checkpoint with no known 16-bit "
                         f"original; {_hint(source)}")  # fmt: skip
    try:
        original_dir = resolve_model_dir(original)
    except InputError as exc:
        raise InputError(
            f"base {source} is 4-bit and its 16-bit original {original} is not available "
            f"({str(exc).split(';')[0]}); {_hint(source)}"
        ) from None
    if is_4bit_config(original_dir):
        raise InputError(f"{original_dir}/config.json: {original} is 4-bit too; {_hint(source)}")
    note = f"merging onto the 16-bit original {original} (the adapter was trained on the 4-bit {source})"
    return MergeBase(original, original_dir, False, training_model, note)
