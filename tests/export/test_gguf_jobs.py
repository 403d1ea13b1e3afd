"""Which GGUF files an export makes, in what order, and q8_0 made by the quantizer."""

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
        ("quantize", "q4_k_m"),
        ("quantize", "q8_0"),
    ]
    assert _jobs(["bf16", "q6_k", "f16"]) == [
        ("convert", "f16"),
        ("convert", "bf16"),
        ("quantize", "q6_k"),
    ]


def test_q8_0_is_a_quantizer_type_and_converter_types_alone_need_no_f16() -> None:
    assert _jobs(["q8_0"]) == [("convert", "f16"), ("quantize", "q8_0")]
    assert _jobs(["f32", "bf16"]) == [("convert", "f32"), ("convert", "bf16")]
    assert gguf_jobs(["f16"]) == [GgufJob("convert", "f16")]


@pytest.mark.slow
def test_q8_0_is_quantized_from_an_f16_that_is_then_deleted(tiny_run: Path, tmp_path: Path) -> None:
    from gguf import GGUFReader, LlamaFileType

    from kodeio.cli import main

    out = tmp_path / "out"
    args = ["export", "gguf", "--run", str(tiny_run), "-o", str(out), "--quant", "q8_0"]
    assert main([*args, "--no-verify"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    stem = manifest["name"]
    assert manifest["gguf"]["quants"] == ["q8_0"]
    # The f16 the quantizer read is gone: only the q8_0 and its Modelfile were published.
    files = {p.name for p in out.iterdir() if p.is_file()}
    assert files == {f"{stem}-q8_0.gguf", f"{stem}-q8_0.Modelfile", "README.md", "manifest.json"}
    assert not out.with_name("out.partial").exists()
    # Converter wrote the f16, the quantizer the q8_0 (no converter --outtype q8_0 run).
    assert sorted(p.name for p in (out / "logs").iterdir()) == [
        "convert-f16.log",
        "quantize-q8_0.log",
    ]
    fields = GGUFReader(str(out / f"{stem}-q8_0.gguf")).fields
    assert int(fields["general.file_type"].contents()) == LlamaFileType.MOSTLY_Q8_0
