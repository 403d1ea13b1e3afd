"""How parity results become a status, and pipeline run-directory handling."""

from __future__ import annotations

import json
from pathlib import Path

from kodeio.export.parity import TIE_GAP, FileParity, PromptResult


def _result(hf: list[int], gg: list[int], gap: float | None, tok_ok: bool = True) -> PromptResult:
    matched = 0
    for x, y in zip(hf, gg, strict=False):
        if x != y:
            break
        matched += 1
    same = hf == gg
    return PromptResult(
        "p", tok_ok, hf, gg, matched, None if same else matched, None if same else gap
    )


def test_statuses() -> None:
    exact = _result([1, 2, 3], [1, 2, 3], None)
    tie = _result([1, 2, 3], [1, 9, 9], TIE_GAP / 2)
    real = _result([1, 2, 3], [1, 9, 9], 1.5)
    assert FileParity("f", "f16", [exact, exact]).summary(strict=True)["status"] == "pass"
    assert FileParity("f", "f16", [exact, tie]).summary(strict=True)["status"] == "tie"
    assert FileParity("f", "f16", [tie, real]).summary(strict=True)["status"] == "fail"
    assert FileParity("f", "q4_k_m", [exact, real]).summary(strict=False)["status"] == "reported"
    bad_tok = _result([1, 2], [1, 2], None, tok_ok=False)
    assert FileParity("f", "q8_0", [bad_tok]).summary(strict=False)["status"] == "fail"
    s = FileParity("f", "q8_0", [exact, real]).summary(strict=False)
    assert s["prompts_exact"] == "1/2" and s["token_agreement"] == round(4 / 6, 4)


def test_pipeline_run_dir_with_train_subdir(tiny_run: Path, tmp_path: Path) -> None:
    """`run_dir` from a recipe is RUN/, training wrote RUN/train/: export lands in RUN/export."""
    from kodeio.cli import main

    run = tmp_path / "my-run"
    run.mkdir()
    (run / "train").symlink_to(tiny_run, target_is_directory=True)
    assert main(["export", "adapter", "--set", f"run_dir={run}"]) == 0
    manifest = json.loads((run / "export" / "manifest.json").read_text())
    assert manifest["name"] == "my-run"
    assert (run / "export" / "adapter" / "adapter_model.safetensors").is_file()
