"""Which GGUF files an export makes, in what order, and an export of converter types only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodeio.export.gguf import GgufJob, gguf_jobs


def _jobs(quants: list[str]) -> list[tuple[str, str]]:
    return [(job.action, job.quant) for job in gguf_jobs(quants)]


def test_the_quantizer_gets_an_f16_first_even_when_f16_is_not_asked_for() -> None:
    assert _jobs(["q4_k_m", "q8_0"]) == [
        ("convert", "f16"),
        ("convert", "q8_0"),
        ("quantize", "q4_k_m"),
    ]
    assert _jobs(["bf16", "q6_k", "f16"]) == [
        ("convert", "f16"),
        ("convert", "bf16"),
        ("quantize", "q6_k"),
    ]


def test_converter_types_alone_need_no_f16() -> None:
    assert _jobs(["q8_0"]) == [("convert", "q8_0")]
    assert _jobs(["f32", "bf16"]) == [("convert", "f32"), ("convert", "bf16")]
    assert gguf_jobs(["f16"]) == [GgufJob("convert", "f16")]


@pytest.mark.slow
def test_export_of_q8_0_only_writes_just_that_gguf(tiny_run: Path, tmp_path: Path) -> None:
    # No f16 is made for a converter-only export, so there is no intermediate to delete.
    from kodeio.cli import main

    out = tmp_path / "out"
    args = ["export", "gguf", "--run", str(tiny_run), "-o", str(out), "--quant", "q8_0"]
    assert main([*args, "--no-verify"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    stem = manifest["name"]
    assert manifest["gguf"]["quants"] == ["q8_0"]
    files = {p.name for p in out.iterdir() if p.is_file()}
    assert files == {f"{stem}-q8_0.gguf", f"{stem}-q8_0.Modelfile", "README.md", "manifest.json"}
