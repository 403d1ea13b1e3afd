"""kodeio.cpu (what the CPU supports, which vLLM kernels it runs) and kodeio.crash (a child
killed by a signal told in one line), with real children that kill themselves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kodeio import crash
from kodeio.cpu import CpuFeatures, builds, from_cpuinfo, main, read_cpuinfo
from kodeio.testing.crashing import crashing_site

HASWELL_FLAGS = "fpu sse2 ssse3 sse4_1 sse4_2 avx f16c fma bmi2 avx2"
CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Test CPU @ 2.0GHz
flags\t\t: {flags}

processor\t: 1
model name\t: Test CPU @ 2.0GHz
flags\t\t: {flags}
"""


def cpu(tmp_path: Path, flags: str, machine: str = "x86_64") -> CpuFeatures:
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO.format(flags=flags))
    return from_cpuinfo(path, machine=machine)


@pytest.mark.parametrize(
    ("extra", "kernels", "missing"),
    [
        ("", "_C_AVX2", "this CPU has AVX2 but no AVX-512"),
        ("avx512f avx512bw avx512vl", "_C_AVX512", "this CPU has AVX-512 but no AVX512-BF16"),
        ("avx512f avx512_bf16 amx_tile amx_bf16", "_C", ""),
    ],
)
def test_vllm_kernels_follow_vllm_import_kernels(
    tmp_path: Path, extra: str, kernels: str, missing: str
) -> None:
    # vllm/platforms/cpu.py: _C needs AVX-512 *and* AVX512-BF16, else _C_AVX512, else _C_AVX2.
    features = cpu(tmp_path, f"{HASWELL_FLAGS} {extra}")
    assert features.model == "Test CPU @ 2.0GHz" and features.avx2
    assert features.vllm_kernels == kernels
    assert features.missing() == missing
    assert features.amx == ("amx_tile" in extra)


def test_cpu_without_avx2_and_other_machines(tmp_path: Path) -> None:
    old = cpu(tmp_path, "fpu sse2 ssse3 sse4_1 sse4_2 avx")
    assert not old.avx2 and old.missing() == "this CPU has no AVX2"
    arm = cpu(tmp_path, "fp asimd", machine="aarch64")
    assert not arm.x86 and arm.vllm_kernels == "_C" and "not x86-64" in arm.missing()
    assert read_cpuinfo(tmp_path / "absent") == ("", frozenset())


def test_setup_report_names_features_and_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    haswell = cpu(tmp_path, HASWELL_FLAGS)
    assert haswell.summary() == "Test CPU @ 2.0GHz: AVX2 yes · AVX-512 no · AMX no"
    line = builds(haswell, "cpu")
    assert "vllm._C_AVX2 here" in line and "GGML_NATIVE=OFF" in line
    assert "keeps Unsloth from loading vllm._C" in line
    assert "keeps Unsloth" not in builds(
        cpu(tmp_path, f"{HASWELL_FLAGS} avx512f avx512_bf16"), "cpu"
    )
    assert main([]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("CPU: ") and "AVX2" in out[0] and "AMX" in out[0]
    assert out[1].startswith("builds: ")


# --- crash lines ------------------------------------------------------------------------


def run_dying_child(tmp_path: Path, package: str, sig: str) -> tuple[int, Path]:
    """A child that arms kodeio.crash, then imports a stand-in package that kills it."""
    site = crashing_site(tmp_path, {package: sig})
    crash_file = tmp_path / "traceback.txt"
    env = {**os.environ, "PYTHONPATH": str(site), crash.ENV: str(crash_file)}
    code = f"from kodeio import crash; crash.arm(); import {package}"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    return proc.returncode, crash_file


@pytest.mark.parametrize(
    ("package", "sig", "library"), [("vllm", "SIGILL", "vLLM"), ("torch", "SIGSEGV", "PyTorch")]
)
def test_child_killed_by_a_signal_becomes_one_line(
    tmp_path: Path, package: str, sig: str, library: str
) -> None:
    code, crash_file = run_dying_child(tmp_path, package, sig)
    assert code == -signal.Signals[sig] and crash.signal_of(code) == signal.Signals[sig]
    assert "most recent call first" in crash_file.read_text()  # faulthandler wrote it
    assert crash.read_library(crash_file) == library
    line = crash.describe(code, library=library, verb="load", action="did X instead")
    assert "\n" not in line and line.endswith("; did X instead")
    lacks = from_cpuinfo().missing()
    if sig == "SIGILL":
        what = lacks or "an instruction this CPU does not have"
        assert line.startswith(
            f"{library} could not load on this CPU (SIGILL, illegal instruction: {what})"
        )
    else:
        assert line.startswith(f"{library} crashed (SIGSEGV, segmentation fault")


def test_only_fatal_signals_count() -> None:
    assert (
        crash.signal_of(0) is None and crash.signal_of(1) is None and crash.signal_of(None) is None
    )
    assert (
        crash.signal_of(-signal.SIGKILL) is None
    )  # killed on purpose (OOM, the user), not a fault
    with pytest.raises(ValueError):
        crash.describe(1, library="x", action="y")
    unknown = crash.describe(-signal.SIGILL, library=None, action=None)
    assert (
        unknown.startswith("a native library could not run on this CPU (SIGILL")
        and ";" not in unknown.split(")")[-1]
    )
    # The innermost frame of a known package names it; kodeio's own and unknown ones do not.
    dump = (
        "Current thread 0x1 (most recent call first):\n"
        '  File "/home/me/kodeio/x.py", line 3 in f\n'
        '  File "/v/lib/python3.11/site-packages/somelib/a.py", line 9 in g\n'
        '  File "/v/lib/python3.11/site-packages/unsloth/import_fixes.py", line 1 in h\n'
        '  File "/v/lib/python3.11/site-packages/vllm/__init__.py", line 1 in <module>\n'
    )
    assert crash.library_in(dump) == "Unsloth"
    assert crash.library_in(dump.split('  File "/v/lib/python3.11/site-packages/u')[0]) is None
