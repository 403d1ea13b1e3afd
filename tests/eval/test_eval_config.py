"""Eval configs: recipe sections, shared keys, overrides and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kodeio.errors import ConfigError
from kodeio.eval.config import (
    CruxevalScoreConfig,
    IoEvalConfig,
    McqaEvalConfig,
    TranslateEvalConfig,
    load_eval_config,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "examples" / "eval.yaml"


def test_example_recipe_loads_every_command():
    io = load_eval_config(IoEvalConfig, EXAMPLE, [], {}, command="io")
    assert io.model == "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B" and io.modes == ["output", "input"]
    assert io.sampling.temperature == 0.6 and io.vllm.max_model_len == 12288
    assert io.run_dir == Path("runs/r1-ko")
    tr = load_eval_config(TranslateEvalConfig, EXAMPLE, [], {}, command="translate")
    assert tr.sampling.temperature == 0.0 and tr.sources == ["aihub"]
    mc = load_eval_config(McqaEvalConfig, EXAMPLE, [], {}, command="mcqa")
    assert mc.sampling.max_tokens == 4096
    sc = load_eval_config(CruxevalScoreConfig, EXAMPLE, [], {}, command="cruxeval_score")
    assert sc.mode == "output" and sc.sandbox.recursion_limit == 1000


def test_cli_values_and_set_override_the_recipe():
    cfg = load_eval_config(
        IoEvalConfig,
        EXAMPLE,
        ["eval.io.language=ko", "eval.sampling.n_samples=4", "k=[1, 2]"],
        {"adapter": "runs/r1-ko/adapter", "name": "tuned"},
        command="io",
    )
    assert cfg.language == "ko" and cfg.sampling.n_samples == 4 and cfg.k == [1, 2]
    assert cfg.adapter == Path("runs/r1-ko/adapter") and cfg.label() == "tuned"


def test_unknown_key_names_the_file_and_section(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("eval:\n  model: m\n  io:\n    data: d.jsonl\n    modez: [output]\n")
    with pytest.raises(ConfigError, match=r"r\.yaml \(eval\.io\).*unknown key 'modez'"):
        load_eval_config(IoEvalConfig, recipe, [], {}, command="io")


def test_output_dir_defaults_under_run_dir():
    cfg = IoEvalConfig(data=Path("data/crux.jsonl"), model="m", run_dir=Path("runs/x"))
    assert cfg.resolve_output_dir("io", cfg.data) == Path("runs/x/eval/io-crux")


def test_eval_all_runs_every_section_with_one_engine(tmp_path, monkeypatch):
    """`kodeio eval all`: io and mcqa from one recipe, one scripted engine, then compare."""
    import json

    from kodeio.cli import main
    from kodeio.eval import generate

    crux = tmp_path / "crux.jsonl"
    crux.write_text(
        json.dumps({"code": "def f(x):\n    return x + 1", "input": "1", "output": "2"}) + "\n"
    )
    mcqa = tmp_path / "mcqa.jsonl"
    mcqa.write_text(json.dumps({"question": "q?", "A": "a", "B": "b", "answer": "B"}) + "\n")
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "match": "predict the exact value",
                        "completion": '</think>\n```json\n{"output": 2}\n```',
                    },
                    {"match": "q?", "completion": "</think>\n정답: B"},
                ],
                "default": "</think>\n[ANSWER] f(0) [/ANSWER]",
            }
        )
    )
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"eval:\n  backend: scripted\n  script: {script}\n"
        f"  io:\n    data: {crux}\n  mcqa:\n    data: {mcqa}\n"
    )
    made = []
    real = generate.make_eval_backend
    monkeypatch.setattr(generate, "make_eval_backend", lambda c: made.append(c) or real(c))
    assert (
        main(["eval", "all", "-c", str(recipe), "-o", str(tmp_path / "base"), "--name", "base"])
        == 0
    )
    assert len(made) == 1  # one engine for both evals
    io = json.loads((tmp_path / "base" / "io" / "report.json").read_text())
    assert io["metrics"]["io-output/pass@1"] == 100.0 and io["metrics"]["io-input/pass@1"] == 0.0
    mc = json.loads((tmp_path / "base" / "mcqa" / "report.json").read_text())
    assert mc["metrics"]["mcqa-mcqa/accuracy"] == 100.0 and mc["model"]["label"] == "base"
    # Everything is answered now: a rerun starts no engine at all.
    made.clear()
    assert main(["eval", "all", "-c", str(recipe), "-o", str(tmp_path / "base")]) == 0
    assert made == []
