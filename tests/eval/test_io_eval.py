"""`kodeio eval io` logic with a scripted model whose answers are known (the real-engine
end-to-end run is in test_io_vllm.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodeio.cli import main
from kodeio.eval.config import IoEvalConfig
from kodeio.eval.io_eval import run_stage
from kodeio.llm.base import Backend, GenRequest
from kodeio.llm.scripted import ScriptedBackend

CRUX = [
    {"id": "sample_0", "code": "def f(x):\n    return x * 3", "input": "4", "output": "12"},
    {
        "id": "sample_1",
        "code": "def f(s):\n    return s.upper()",
        "input": "'ab'",
        "output": "'AB'",
    },
    {
        "id": "sample_2",
        "code": "def f(xs):\n    return sorted(xs)[:2]",
        "input": "[5, 1, 3]",
        "output": "[1, 3]",
    },
    {
        "id": "sample_3",
        "code": "def f(a, b):\n    return (a, b)",
        "input": "1, 2",
        "output": "(1, 2)",
    },
]


def answer(key: str, value: str) -> str:
    return f'I trace the code step by step.\n</think>\n\n```json\n{{"{key}": {value}}}\n```'


def call_answer(call: str) -> str:
    """Input answers as the synthesis prompt asks for call-style inputs."""
    return f"Working backwards from the output.\n</think>\n\n[ANSWER] {call} [/ANSWER]"


def crux_model(request: GenRequest, sample: int) -> str:
    """x*3: always right. upper: output right, input wrong. sorted: sample 0 right, sample 1
    no answer. tuple: output given as a list (wrong under ==), input right as a call."""
    prompt = request.messages[-1]["content"]
    output_mode = "predict the exact value" in prompt
    if "x * 3" in prompt:
        return answer("output", "12") if output_mode else call_answer("f(4)")
    if "s.upper()" in prompt:
        return answer("output", '"AB"') if output_mode else answer("input", "\"f('xy')\"")
    if "sorted(xs)" in prompt:
        if sample == 1:
            return "I am not sure.</think>\n\nNo idea."
        return answer("output", "[1, 3]") if output_mode else call_answer("f([3, 1, 9])")
    return answer("output", "[1, 2]") if output_mode else call_answer("f(1, 2)")


class NoEngine(Backend):
    """Fails the test if anything asks the engine for a completion."""

    def generate(self, requests):
        raise AssertionError(f"unexpected generation of {len(requests)} requests")


@pytest.fixture(scope="module")
def crux_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("io") / "crux.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in CRUX), encoding="utf-8")
    return path


def config(data: Path, out: Path, **extra) -> IoEvalConfig:
    return IoEvalConfig(
        data=data,
        output_dir=out,
        backend="scripted",
        name="scripted",
        sampling={"n_samples": 2, "temperature": 0.6},
        sandbox={"workers": 2, "timeout": 3.0, "preload_numpy": False},
        **extra,
    )


def test_cruxeval_data_scored_and_resumed(crux_file, tmp_path):
    out = tmp_path / "run"
    report_path = run_stage(config(crux_file, out), backend=ScriptedBackend(crux_model))
    report = json.loads(report_path.read_text(encoding="utf-8"))
    m = report["metrics"]
    # output: x*3 2/2, upper 2/2, sorted 1/2, tuple 0/2 -> (1 + 1 + .5 + 0) / 4
    assert m["io-output/pass@1"] == pytest.approx(62.5)
    # input: x*3 2/2, upper 0/2, sorted 1/2 (f([3,1,9]) -> [1, 3]), tuple 2/2
    assert m["io-input/pass@1"] == pytest.approx(62.5)
    assert m["io-output/pass@2"] == pytest.approx(75.0)
    assert "io-output/pass@5" not in m  # only 2 samples per prompt
    lo, hi = report["intervals"]["io-output/pass@1"]
    # Wilson 95% with the 4 problems as trials and 2.5 summed successes (worked by hand).
    assert (lo, hi) == (pytest.approx(21.9427, abs=1e-3), pytest.approx(90.8101, abs=1e-3))
    assert report["n"] == {f"io-{m}/pass@{k}": 4 for m in ("output", "input") for k in (1, 2)}
    counts = report["counts"]["output"]
    assert counts["reasons"]["no_answer"] == 1 and counts["reasons"]["match"] == 5
    assert report["model"]["label"] == "scripted"
    assert report["data"]["format"] == "cruxeval"
    assert (out / "items.jsonl").is_file() and not (out / "items.jsonl.partial").exists()
    assert not (out / "items.jsonl.gen.jsonl").exists()

    # The CRUXEval-format generations re-score to the same pass@1 with the official rules.
    for mode in ("output", "input"):
        scored = tmp_path / f"scored_{mode}.json"
        rc = main(["eval", "score-cruxeval", "--data", str(crux_file), "-g",
                   str(out / f"cruxeval_generations_{mode}.json"), "--mode", mode, "-o", str(scored)])  # fmt: skip
        assert rc == 0
        official = json.loads(scored.read_text(encoding="utf-8"))
        assert official["pass_at_1"] == pytest.approx(m[f"io-{mode}/pass@1"])

    # A rerun finds every item done and never asks the engine.
    again = json.loads(run_stage(config(crux_file, out), backend=NoEngine()).read_text("utf-8"))
    assert again["metrics"] == report["metrics"]
    assert again["counts"]["resumed"] == 8


def test_resume_after_partial_run(crux_file, tmp_path):
    """Items written before a kill are kept; only the rest are generated."""
    out = tmp_path / "run"
    seen: list[str] = []

    def model(request: GenRequest, sample: int) -> str:
        seen.append(request.key)
        return crux_model(request, sample)

    full = run_stage(config(crux_file, out), backend=ScriptedBackend(model))
    expected = json.loads(full.read_text("utf-8"))["metrics"]
    items = (out / "items.jsonl").read_text("utf-8").splitlines()
    # Simulate a kill after three items: a partial file with a torn fourth line.
    (out / "items.jsonl").unlink()
    (out / "items.jsonl.partial").write_text("\n".join(items[:3]) + "\n" + items[3][:40], "utf-8")
    seen.clear()
    resumed = run_stage(config(crux_file, out), backend=ScriptedBackend(model))
    data = json.loads(resumed.read_text("utf-8"))
    assert data["metrics"] == expected
    assert data["counts"]["resumed"] == 3
    assert len(set(seen)) == 5  # 8 tasks - 3 done


def test_kodeio_pairs_json_policy(tmp_path):
    pairs = tmp_path / "io.jsonl"
    rows = [
        {"id": "d", "code": "def f(n):\n    return n * 2\n", "entry": "f",
         "input": {"args": [], "kwargs": {"n": 3}}, "output": 6, "output_repr": "6", "policy": "json"},
        {"id": "r", "code": "def main_solution(x):\n    return round(x / 3, 4)\n", "entry": "main_solution",
         "input": {"args": [], "kwargs": {"x": 1.0}}, "output": 0.3333, "output_repr": "0.3333", "policy": "json"},
    ]  # fmt: skip
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    def model(request: GenRequest, sample: int) -> str:
        prompt = request.messages[-1]["content"]
        out_mode = "predict the exact value" in prompt
        if "n * 2" in prompt:
            return answer("output", "6") if out_mode else answer("input", '{"n": 3}')
        return answer("output", "0.33330000001") if out_mode else answer("input", '{"x": 2.0}')

    cfg = IoEvalConfig(data=pairs, output_dir=tmp_path / "o", backend="scripted", name="s")
    report = json.loads(run_stage(cfg, backend=ScriptedBackend(model)).read_text("utf-8"))
    assert report["data"]["format"] == "kodeio"
    assert report["metrics"]["io-output/pass@1"] == pytest.approx(100.0)  # float within 1e-6
    assert report["metrics"]["io-input/pass@1"] == pytest.approx(50.0)
    assert not (tmp_path / "o" / "cruxeval_generations_output.json").exists()


def test_bad_data_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x"}\n', encoding="utf-8")
    rc = main(
        ["eval", "io", "--data", str(bad), "--backend", "scripted", "-o", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert rc == 1 and "cannot tell the format" in err and "Traceback" not in err


def test_model_is_required(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(CRUX[0]) + "\n", encoding="utf-8")
    rc = main(["eval", "io", "--data", str(data), "-o", str(tmp_path / "o")])
    assert rc == 2
    assert "model" in capsys.readouterr().err
