"""Disk: the checkpoints the run downloads, each export target, and export's peak staging.

Export builds everything in OUT.partial/ (kodeio/export/stage.py): the merged 16-bit model,
the f16 GGUF (the quantizer's input, deleted at the end when not a target), q8_0 from the
converter and each k-quant from the f16 GGUF, all present at once before publishing.
"""

from __future__ import annotations

from kodeio.export.config import ExportConfig
from kodeio.plan.arithmetic import GB, GGUF_BITS, Figure, lora_params, weight_bytes, weight_format
from kodeio.plan.arithmetic import GIB as _GIB
from kodeio.plan.model_config import ModelShape
from kodeio.plan.report import StageReport


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
    if "gguf" in export.targets:
        k_quants = [q for q in export.quant if q not in ("f32", "f16", "bf16", "q8_0")]
        wanted = list(export.quant) + (["f16"] if k_quants and "f16" not in export.quant else [])
        for quant in wanted:
            size = p * GGUF_BITS[quant] / 8 / GB
            staged[f"gguf {quant}"] = size
            tag = " (intermediate, deleted at the end)" if quant not in export.quant else ""
            rep.add(Figure(f"gguf {quant}{tag}", size, "GB",
                           f"{p / 1e9:.2f}B params x {GGUF_BITS[quant]:g} bits / 8"))  # fmt: skip
    peak = sum(staged.values())
    rep.add(Figure("export peak staging", peak, "GB",
                   " + ".join(f"{v:.1f} {k}" for k, v in staged.items())))  # fmt: skip
    dl = {name: checkpoint_gb(shape) for name, shape in downloads.items()}
    total_dl = sum(dl.values())
    rep.add(Figure("model downloads (HF cache)", total_dl, "GB",
                   " + ".join(f"{v:.1f} {k}" for k, v in dl.items())))  # fmt: skip
    need = rep.add(Figure("disk needed, at least", total_dl + peak, "GB",
                          f"{total_dl:.1f} downloads + {peak:.1f} export peak; run data, "
                          "checkpoints and logs not counted"))  # fmt: skip
    rep.notes.append(f"the merge holds the 16-bit model in CPU RAM: ~{merged:.0f} GB")
    if disk_gb is not None and need.value > disk_gb:
        small = total_dl + adapter + merged + p * (16 + GGUF_BITS["q4_k_m"]) / 8 / GB
        rep.problems.append(
            f"export: {need.value:.0f} GB of disk needed (downloads {total_dl:.0f} + export peak "
            f"{peak:.0f}) > --disk-gb {disk_gb:g}; closest: export.quant: q4_k_m alone needs "
            f"{small:.0f} GB"
        )
