"""A stage child killed by a signal: `kodeio run` stops with one line naming the library.

The stage child of the quickstart's first stage imports a stand-in vLLM that kills it with
SIGILL, as vllm's AVX-512 build does on a CPU without AVX-512. The stand-in is brought in by
a `sitecustomize` on the children's PYTHONPATH, only in `python -m kodeio.pipeline`, and only
when the stage imports its code: after the child armed its crash file, as a real crash is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kodeio.cpu import from_cpuinfo
from kodeio.testing.crashing import crashing_site

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "configs" / "quickstart-cpu.yaml"

SITECUSTOMIZE = """import sys


class _CrashWhenTheStageLoads:
    def find_spec(self, name, path=None, target=None):
        if name == "kodeio.synth.io.stage":
            import vllm  # noqa: F401  (the stand-in kills this process with SIGILL)
        return None


if sys.orig_argv[1:3] == ["-m", "kodeio.pipeline"]:
    sys.meta_path.insert(0, _CrashWhenTheStageLoads())
"""


def test_stage_killed_by_sigill_stops_the_run_with_one_line(tmp_path: Path) -> None:
    site = crashing_site(tmp_path, {"vllm": "SIGILL"})
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "kodeio.cli", "run", "--config", str(QUICKSTART),
         "--set", f"run_dir={run}", "--to", "io"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**os.environ, "PYTHONPATH": str(site)},
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in output, output[-3000:]
    what = from_cpuinfo().missing() or "an instruction this CPU does not have"
    crash_file = run / "io.crash.txt"
    assert errors[0] == (
        f"error: stage 'io': vLLM could not run on this CPU (SIGILL, illegal instruction: "
        f"{what}); no fallback, so the run stopped (traceback: {crash_file})"
    )
    assert "kodeio/pipeline.py" in crash_file.read_text()  # the stage child's own traceback
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["stages"]["io"] == {**manifest["stages"]["io"], "status": "failed", "exit": -4}
