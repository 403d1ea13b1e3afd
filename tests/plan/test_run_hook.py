"""`kodeio run` plans the recipe first on a CUDA machine, and only the selected stages count."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kodeio.cli.pipeline import plan_on_this_gpu
from kodeio.plan import hardware
from kodeio.plan.stage import PlanError

ROOT = Path(__file__).resolve().parents[2]
GPU_RECIPE = ROOT / "configs" / "r1-distill-32b-ko.yaml"


@pytest.fixture
def a_4090(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(hardware, "detect", lambda: hardware.PRESETS["4090"])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))


def test_a_stage_that_does_not_fit_stops_the_run(a_4090: None, tmp_path: Path) -> None:
    overrides = [f"run_dir={tmp_path / 'run'}", "synth.vllm.max_model_len=131072"]
    with pytest.raises(PlanError, match=r"^synth: the KV cache holds 20,864 tokens"):
        plan_on_this_gpu(GPU_RECIPE, overrides, None, None)


def test_stages_outside_from_to_do_not_stop_it(a_4090: None, tmp_path: Path) -> None:
    overrides = [f"run_dir={tmp_path / 'run'}", "synth.vllm.max_model_len=131072"]
    plan_on_this_gpu(GPU_RECIPE, overrides, "train", "train")  # synth's problem is not selected


def test_cpu_machines_skip_the_plan_without_importing_torch(tmp_path: Path) -> None:
    if Path("/proc/driver/nvidia/version").exists():
        pytest.skip("an NVIDIA driver is present")
    code = (
        "import sys; from pathlib import Path; from kodeio.cli.pipeline import plan_on_this_gpu;"
        f"plan_on_this_gpu(Path({str(GPU_RECIPE)!r}), None, None, None);"
        "print('torch' in sys.modules)"
    )
    env_path = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}  # no nvidia-smi on this PATH
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env_path, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
