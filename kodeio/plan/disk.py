"""Disk: the checkpoints the run downloads, each export target, and export's peak staging.

Export builds everything in OUT.partial/ (kodeio/export/stage.py): the merged 16-bit model,
the f16 GGUF from the converter (the quantizer's input), then q8_0 and each k-quant from it
with the quantizer. The peak is when the last quantized file is written: all of them exist
at once. Then the f16 is deleted when it is not a target, and the merged weights when
`merged` is not. The merge reads the 16-bit original of a 4-bit training model
(kodeio/export/base.py), so that checkpoint is a download of its own.
"""

from __future__ import annotations

from kodeio.export.base import PERPLEXITY_COST
from kodeio.export.config import ExportConfig
from kodeio.export.quants import QUANTIZER_TYPES
from kodeio.models import is_4bit_name, original_16bit
from kodeio.plan.arithmetic import GB, GGUF_BITS, Figure, lora_params, weight_bytes, weight_format
from kodeio.plan.arithmetic import GIB as _GIB
from kodeio.plan.model_config import ModelShape
from kodeio.plan.report import StageReport

_FIX = (
    f"set export.base to the 16-bit original, or export.merge_onto_4bit: true at {PERPLEXITY_COST}"
)


def merge_base_name(name: str, notes: list[str]) -> str:
    """The checkpoint the export merge reads for base `name`: the 16-bit original of a
    `-bnb-4bit` name when one is known (as `kodeio export` finds it), else `name`."""
    original = original_16bit(name) if is_4bit_name(name) else None
    if original is None:
        return name
    notes.append(f"the merge reads the 16-bit original {original}, not the 4-bit {name}")
    return original


def check_merge_base(base: ModelShape, merge_onto_4bit: bool, rep: StageReport) -> None:
    """A 4-bit merge base with no 16-bit original is what `kodeio export` refuses."""
    if base.quant_method == "bitsandbytes" and not merge_onto_4bit:
        rep.problems.append(
            f"export: base {rep.model} is a 4-bit checkpoint with no known 16-bit original; {_FIX}"
        )


def checkpoint_gb(shape: ModelShape) -> float:
    """A checkpoint's size on disk: its weights in the format its config.json names."""
    return weight_bytes(shape, weight_format(shape.quant_method, shape)).value * _GIB / GB


def plan_disk(
    rep: StageReport,
    base: ModelShape,
    export: ExportConfig,
    lora_r: int,
    targets_modules: list[str],
    downloads: dict[str, ModelShape],
    disk_gb: float | None,
) -> None:
    p = base.total_params
    adapter = lora_params(base, lora_r, targets_modules) * 4 / GB
    merged_b = 4 if export.dtype == "float32" else 2
    merged = p * merged_b / GB
    files = {"adapter": adapter}
    rep.add(Figure("adapter", adapter, "GB", f"LoRA params at r={lora_r} x 4 B (fp32)"))
    if "merged" in export.targets or "gguf" in export.targets:
        files["merged"] = merged
        rep.add(Figure("merged weights", merged, "GB", f"{p:,} params x {merged_b} B"))
    staged = dict(files)
    intermediate = 0.0 if "merged" in export.targets else files.get("merged", 0.0)
    if "gguf" in export.targets:
        quantized = [q for q in export.quant if q in QUANTIZER_TYPES]
        converted = [q for q in export.quant if q not in QUANTIZER_TYPES]
        wanted = (["f16"] if quantized and "f16" not in converted else []) + converted + quantized
        for quant in wanted:
            size = p * GGUF_BITS[quant] / 8 / GB
            staged[f"gguf {quant}"] = size
            tag = ""
            if quant not in export.quant:
                tag = " (the quantizer's input, deleted after the last quantization)"
                intermediate += size
            rep.add(Figure(f"gguf {quant}{tag}", size, "GB",
                           f"{p / 1e9:.2f}B params x {GGUF_BITS[quant]:g} bits / 8"))  # fmt: skip
    peak = sum(staged.values())
    rep.add(Figure("export peak staging", peak, "GB",
                   " + ".join(f"{v:.1f} {k}" for k, v in staged.items())))  # fmt: skip
    if intermediate:
        rep.add(Figure("export published", peak - intermediate, "GB",
                       f"{peak:.1f} peak - {intermediate:.1f} intermediates deleted"))  # fmt: skip
    dl = {name: checkpoint_gb(shape) for name, shape in downloads.items()}
    total_dl = sum(dl.values())
    rep.add(Figure("model downloads (HF cache)", total_dl, "GB",
                   " + ".join(f"{v:.1f} {k}" for k, v in dl.items())))  # fmt: skip
    need = rep.add(Figure("disk needed, at least", total_dl + peak, "GB",
                          f"{total_dl:.1f} downloads + {peak:.1f} export peak; run data, "
                          "checkpoints and logs not counted"))  # fmt: skip
    rep.notes.append(
        "the merge streams tensor by tensor (CPU RAM: about one output shard, "
        "export.max_shard_size, plus the adapter), not the whole 16-bit model"
    )
    if disk_gb is not None and need.value > disk_gb:
        small = total_dl + adapter + merged + p * (16 + GGUF_BITS["q4_k_m"]) / 8 / GB
        rep.problems.append(
            f"export: {need.value:.0f} GB of disk needed (downloads {total_dl:.0f} + export peak "
            f"{peak:.0f}) > --disk-gb {disk_gb:g}; closest: export.quant: q4_k_m alone needs "
            f"{small:.0f} GB"
        )
