"""llama.cpp's quantizer child killed by a signal: one line naming llama.cpp and the CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodeio.cpu import from_cpuinfo
from kodeio.errors import InputError
from kodeio.export.llamacpp import quantize
from kodeio.testing.crashing import crashing_site


def test_quantizer_killed_by_sigill_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in llama_cpp that dies at import, as a build for a newer CPU would.
    monkeypatch.setenv("PYTHONPATH", str(crashing_site(tmp_path, {"llama_cpp": "SIGILL"})))
    log = tmp_path / "quantize.log"
    dst = tmp_path / "m.q4_k_m.gguf"
    with pytest.raises(InputError) as caught:
        quantize(tmp_path / "m.f16.gguf", dst, "q4_k_m", log)
    what = from_cpuinfo().missing() or "an instruction this CPU does not have"
    assert str(caught.value) == (
        f"llama.cpp could not run on this CPU (SIGILL, illegal instruction: {what}); "
        f"the q4_k_m GGUF was not made (log: {log})"
    )
    assert "Fatal Python error" in log.read_text() and not dst.exists()
