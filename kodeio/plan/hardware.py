"""GPU presets for `kodeio plan --gpu`: memory, memory bandwidth and dense bf16 tensor TFLOPS.

Memory is what `nvidia-smi` reports as the card's total (MiB), not the marketing GB; bandwidth
and TFLOPS are the vendor's datasheet peaks (dense, no sparsity). The plan divides by them, so
its throughput figures are ceilings, never predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024**2
GIB = 1024**3


@dataclass(frozen=True)
class Gpu:
    key: str
    name: str
    memory_bytes: int
    bandwidth_gbs: float  # GB/s (10^9 bytes per second)
    bf16_tflops: float  # dense tensor-core peak, FP32 accumulate
    source: str

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / GIB


PRESETS: dict[str, Gpu] = {
    "4090": Gpu(
        "4090",
        "NVIDIA GeForce RTX 4090",
        24564 * MIB,
        1008.0,
        165.2,
        "NVIDIA Ada GPU architecture whitepaper (RTX 4090: 24 GB GDDR6X, 1008 GB/s, "
        "165.2 dense BF16 tensor TFLOPS with FP32 accumulate); 24564 MiB as nvidia-smi shows",
    ),
    "a100-80": Gpu(
        "a100-80",
        "NVIDIA A100 80GB SXM",
        81920 * MIB,
        2039.0,
        312.0,
        "NVIDIA A100 datasheet (80 GB HBM2e SXM: 2,039 GB/s, 312 dense BF16 TFLOPS)",
    ),
    "h100": Gpu(
        "h100",
        "NVIDIA H100 80GB SXM",
        81559 * MIB,
        3350.0,
        989.0,
        "NVIDIA H100 datasheet (SXM5 80 GB HBM3: 3.35 TB/s, 989 dense BF16 TFLOPS; the PCIe "
        "card has 2.0 TB/s and 756 TFLOPS)",
    ),
    "h200": Gpu(
        "h200",
        "NVIDIA H200 SXM",
        143771 * MIB,
        4800.0,
        989.0,
        "NVIDIA H200 datasheet (141 GB HBM3e: 4.8 TB/s, 989 dense BF16 TFLOPS)",
    ),
}


def custom(vram_gb: float) -> Gpu:
    """A card known only by its memory (`--vram-gb`): no bandwidth, so no throughput or hours."""
    return Gpu("custom", f"a GPU with {vram_gb:g} GiB", int(vram_gb * GIB), 0.0, 0.0, "--vram-gb")


def detect() -> Gpu | None:
    """The first CUDA GPU as a preset (matched by name), or by its memory alone; None without one.

    torch is imported only when it is installed, and only to ask CUDA; a CPU-only machine
    answers None here and never starts a plan by itself.
    """
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    name = props.name.lower()
    for key, needle in (("4090", "4090"), ("h200", "h200"), ("h100", "h100"), ("a100-80", "a100")):
        if needle in name and (key != "a100-80" or props.total_memory > 60 * GIB):
            preset = PRESETS[key]
            return Gpu(key, props.name, props.total_memory, preset.bandwidth_gbs,
                       preset.bf16_tflops, preset.source)  # fmt: skip
    return Gpu("detected", props.name, props.total_memory, 0.0, 0.0, "torch.cuda")
