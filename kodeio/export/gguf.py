"""The GGUF files of an export: which to make, in what order, and making each one.

f32, f16 and bf16 are written by llama.cpp's converter from the merged weights; q8_0 and the
k-quants (and the other quantizer types) by its quantizer from an f16 GGUF, which is made
for them even when f16 is not asked for (and deleted by the stage once the last of them is
written).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kodeio.export.plan import Plan
from kodeio.export.quants import CONVERTER_TYPES, QUANTIZER_TYPES


@dataclass(frozen=True)
class GgufJob:
    """One GGUF file to make: `convert` (from the merged weights) or `quantize` (from f16)."""

    action: Literal["convert", "quantize"]
    quant: str


def gguf_jobs(quants: list[str]) -> list[GgufJob]:
    """The files to make for `quants`, in order: conversions first (f16 first when the
    quantizer needs it), then quantizations."""
    k_quants = [q for q in quants if q in QUANTIZER_TYPES]
    converted = [q for q in quants if q in CONVERTER_TYPES]
    if k_quants or "f16" in quants:
        converted = list(dict.fromkeys(["f16", *converted]))
    return [GgufJob("convert", q) for q in converted] + [GgufJob("quantize", q) for q in k_quants]


def gguf_path(plan: Plan, root: Path, quant: str) -> Path:
    return root / f"{plan.name}-{quant}.gguf"


def make_gguf(plan: Plan, job: GgufJob, merged: Path) -> Path:
    """The job's file in the staging directory; a file finished by an earlier run is kept.

    Written to `NAME.tmp` and renamed, so an interrupted run never leaves a partial GGUF
    that a rerun would take for finished.
    """
    from kodeio.export.llamacpp import convert, quantize

    staging = plan.staging
    path = gguf_path(plan, staging, job.quant)
    if path.is_file():
        return path
    t0 = time.perf_counter()
    tmp = path.with_name(path.name + ".tmp")
    log = staging / "logs" / f"{job.action}-{job.quant}.log"
    if job.action == "convert":
        assert plan.llama_dir is not None
        convert(plan.llama_dir, merged, tmp, job.quant, log)
    else:
        quantize(gguf_path(plan, staging, "f16"), tmp, job.quant, log)
    tmp.rename(path)
    plan.timings[f"{job.action}_{job.quant}"] = round(time.perf_counter() - t0, 2)
    return path


def gguf_pre_tokenizer(path: Path) -> str | None:
    try:
        from gguf import GGUFReader  # reading metadata only; conversion never uses this package

        field_ = GGUFReader(str(path)).fields.get("tokenizer.ggml.pre")
        return str(field_.contents()) if field_ is not None else None
    except Exception:
        return None


def param_count(merged_dir: Path) -> int:
    index = json.loads((merged_dir / "model.safetensors.index.json").read_text())
    cfg = json.loads((merged_dir / "config.json").read_text())
    width = 4 if cfg.get("dtype") == "float32" else 2
    return int(index["metadata"]["total_size"]) // width
