"""kodeio.cpu: how many cores an engine gets (affinity, one logical CPU per physical core)
and the VLLM_CPU_* settings that give vLLM-CPU all of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kodeio.cpu import (
    allowed_cpus,
    cpu_list,
    llama_threads,
    thread_cpus,
    usable_cores,
    vllm_cpu_env,
)

REPO = Path(__file__).resolve().parents[2]


def fake_topology(root: Path, cores: dict[int, tuple[int, int]]) -> Path:
    """/sys/devices/system/cpu with cpu -> (package, core) as given."""
    for cpu, (package, core) in cores.items():
        topo = root / f"cpu{cpu}" / "topology"
        topo.mkdir(parents=True)
        (topo / "physical_package_id").write_text(f"{package}\n")
        (topo / "core_id").write_text(f"{core}\n")
    return root


def test_one_logical_cpu_per_physical_core(tmp_path: Path) -> None:
    # 2 sockets x 2 cores x SMT-2, Linux numbering: siblings are cpu N and N+4.
    smt = {0: (0, 0), 1: (0, 1), 2: (1, 0), 3: (1, 1), 4: (0, 0), 5: (0, 1), 6: (1, 0), 7: (1, 1)}
    root = fake_topology(tmp_path / "smt", smt)
    assert usable_cores(range(8), root) == [0, 1, 2, 3]
    # Only the siblings allowed: each still stands for its core. Core 0 on two sockets are
    # two different cores.
    assert usable_cores([4, 5, 6], root) == [4, 5, 6]
    assert usable_cores([0, 4, 6], root) == [0, 6]
    # No topology to read (containers without /sys): every CPU counts.
    assert usable_cores([3, 1, 2], tmp_path / "absent") == [1, 2, 3]


def test_cpu_list_syntax() -> None:
    assert cpu_list([0, 1]) == "0-1"
    assert cpu_list([6, 0, 1, 2, 3, 9, 8]) == "0-3,6,8-9"
    assert cpu_list([5]) == "5"


def test_vllm_env_binds_every_core_and_splits_between_workers() -> None:
    assert vllm_cpu_env([0, 1], environ={}) == {"VLLM_CPU_OMP_THREADS_BIND": "0-1"}
    assert vllm_cpu_env([0, 1, 2, 3, 4], ranks=2, environ={}) == {
        "VLLM_CPU_OMP_THREADS_BIND": "0-2|3-4"
    }
    assert vllm_cpu_env([2, 5], ranks=2, environ={}) == {"VLLM_CPU_OMP_THREADS_BIND": "2|5"}
    # Fewer cores than workers: vLLM decides (and says what is wrong).
    assert vllm_cpu_env([0], ranks=2, environ={}) == {}


@pytest.mark.parametrize(
    "user", [{"VLLM_CPU_OMP_THREADS_BIND": "auto"}, {"VLLM_CPU_NUM_OF_RESERVED_CPU": "1"}]
)
def test_vllm_env_leaves_a_users_own_settings(user: dict[str, str]) -> None:
    assert vllm_cpu_env([0, 1], environ=user) == {}


def test_affinity_decides_not_cpu_count() -> None:
    """In a process pinned to one CPU (taskset, a cpuset), engines get one thread."""
    cpus = allowed_cpus()
    assert cpus == sorted(os.sched_getaffinity(0))
    code = (
        "import json, os\n"
        f"os.sched_setaffinity(0, {{{cpus[-1]}}})\n"
        "from kodeio.cpu import llama_threads, vllm_cpu_env, thread_cpus\n"
        "print(json.dumps([llama_threads(), vllm_cpu_env(environ={}),"
        " thread_cpus(os.getpid())]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    threads, env_vars, seen = json.loads(out)
    assert threads == 1
    assert env_vars == {"VLLM_CPU_OMP_THREADS_BIND": str(cpus[-1])}
    assert seen == {str(cpus[-1]): 1}  # the one thread of that process, on that CPU
    assert llama_threads() == len(usable_cores())


def test_thread_cpus_counts_the_threads_of_a_process() -> None:
    counts = thread_cpus(os.getpid())
    assert sum(counts.values()) == len(os.listdir(f"/proc/{os.getpid()}/task"))
    assert thread_cpus(2**22 + 1) == {}  # above pid_max: no such process
