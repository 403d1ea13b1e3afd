"""Real engines on CPU: vLLM offline on a tiny Qwen2, and llama.cpp's OpenAI-compatible
server (SmolLM2-135M) for the openai backend, with faults injected on loopback.

The models are tiny or small, so answers are mostly wrong: these tests check that the
pipeline drives real engines end to end, survives faults, and resumes with nothing lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kodeio.files import read_jsonl
from kodeio.llm.journal import journal_path
from kodeio.synth.config import SynthConfig
from kodeio.synth.pipeline import SynthRun
from kodeio.testing.known_pairs import PAIRS, write_pairs
from kodeio.testing.servers import CannedServer, FaultProxy

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def kodeio_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "kodeio.cli", *args]


def cli_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **extra}
    env.pop("COLUMNS", None)
    return env


def openai_config(pairs: Path, out: Path, base_url: str, **kw: object) -> SynthConfig:
    data: dict = {
        "pairs": str(pairs),
        "output": str(out),
        "backend": "openai",
        "model": "smollm2",
        "concurrency": 2,
        "sampling": {"max_tokens": 16},
        "openai": {"base_urls": [base_url], "backoff_base": 0.05, "backoff_max": 0.5},
    }
    for key, value in kw.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return SynthConfig.model_validate(data)


def expected_ids(cfg: SynthConfig) -> list[str]:
    """The trace ids a complete run must have (computed from the requests, no generation)."""
    run = SynthRun(cfg, progress=False)
    return sorted(t.id for g in run._first_turn_groups(set()) for t in g.tasks)


def check_complete(rows: list[dict], n_pairs: int, modes: int = 2) -> None:
    assert len(rows) == n_pairs * modes
    assert len({r["id"] for r in rows}) == len(rows)  # no duplicates
    for row in rows:
        # The status is the one the turns' verdicts imply: first correct turn wins.
        correct = [t["verdict"]["correct"] for t in row["turns"]]
        expected = (
            "failed"
            if True not in correct
            else "verified_first"
            if correct.index(True) == 0
            else "verified_revised"
        )
        assert row["status"] == expected, (row["id"], correct)
        assert row["turns"] and all(t["completion"] is not None for t in row["turns"])
        assert row["tokens"]["completion"] > 0


# ---- vLLM, in-process engine ------------------------------------------------------------


def test_vllm_offline_tiny_qwen2(tiny_model: Path, tmp_path: Path) -> None:
    """`kodeio synth run --backend vllm` on CPU (a subprocess: vLLM spawns an engine)."""
    pairs = write_pairs(tmp_path / "io.jsonl")
    out = tmp_path / "traces.jsonl"
    args = [
        "synth", "run", "--pairs", str(pairs), "-o", str(out), "--backend", "vllm",
        "--model", str(tiny_model), "--max-tokens", "24", "--n-samples", "2",
        "--set", "vllm.kv_cache_gb=0.25", "--set", "vllm.max_model_len=1024",
        "--set", "vllm.dtype=float32",
    ]  # fmt: skip
    proc = subprocess.run(
        kodeio_cmd(*args), capture_output=True, text=True, env=cli_env(), timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = read_jsonl(out)
    assert len(rows) == len(PAIRS) * 2 * 2  # pairs x modes x samples
    assert len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert row["backend"] == "vllm" and row["model"] == str(tiny_model)
        assert all(t["tokens"]["completion"] > 0 for t in row["turns"])
        # Turn 1 prompt rendered with the R1 template: the prompt token count is real.
        assert row["turns"][0]["tokens"]["prompt"] > 50
    # Two samples of one prompt are different draws (n=2 on one request).
    first = [r for r in rows if r["pair_id"] == "double-3" and r["mode"] == "output"]
    assert first[0]["turns"][0]["completion"] != first[1]["turns"][0]["completion"]
    assert "engine start" in proc.stderr

    # A rerun of the finished command generates nothing (the engine is not even started)
    # and keeps every row.
    proc = subprocess.run(
        kodeio_cmd(*args), capture_output=True, text=True, env=cli_env(), timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "0 requests generated" in " ".join(proc.stderr.split())
    assert read_jsonl(out) == rows


# ---- openai backend against llama.cpp's server -------------------------------------------


def test_openai_chat_llama_server(llama_server, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "io.jsonl")  # all three pairs: json and python policies
    # One turn each here; revision turns against the real server run in the fault tests.
    cfg = openai_config(pairs, tmp_path / "t.jsonl", llama_server.base_url, revisions=0)
    stats = SynthRun(cfg, progress=False).run()
    rows = read_jsonl(cfg.output)
    check_complete(rows, len(PAIRS))
    assert stats.generated_requests >= len(rows)
    # 16 tokens is too few for a chain of thought: real truncation at max_tokens.
    turns = [t for r in rows for t in r["turns"]]
    assert any(t["finish_reason"] == "length" for t in turns)
    assert all(
        t["verdict"]["reason"] == "truncated"
        for t in turns
        if t["finish_reason"] == "length" and "</think>" not in t["completion"]
    )


def test_openai_completions_with_r1_template(
    llama_server, tiny_model: Path, tmp_path: Path
) -> None:
    """With a tokenizer, prompts are rendered locally and sent to /v1/completions."""
    pairs = write_pairs(tmp_path / "io.jsonl", PAIRS[:1])
    cfg = openai_config(
        pairs, tmp_path / "t.jsonl", llama_server.base_url, openai={"tokenizer": str(tiny_model)}
    )
    SynthRun(cfg, progress=False).run()
    check_complete(read_jsonl(cfg.output), 1)


def test_faults_500_slow_and_dropped(llama_server, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "io.jsonl", PAIRS[:2])
    plan = {1: "500", 2: "drop", 3: "slow", 6: "500", 8: "drop"}
    with FaultProxy(llama_server.base_url, plan, slow_seconds=1.0) as proxy:
        cfg = openai_config(pairs, tmp_path / "faulty.jsonl", proxy.base_url)
        stats = SynthRun(cfg, progress=False).run()
    rows = read_jsonl(cfg.output)
    check_complete(rows, 2)
    assert proxy.injected == {"500": 2, "drop": 2, "slow": 1}  # every planned fault happened
    assert stats.retries >= 4  # each 500 and each drop cost one retry
    assert sorted(r["id"] for r in rows) == expected_ids(cfg)


def test_stalled_requests_time_out_and_retry(tmp_path: Path) -> None:
    """A reply that never comes: the client's timeout fires and the request is retried."""
    pairs = write_pairs(tmp_path / "io.jsonl", PAIRS[:1])
    answer = 'n is 3.\n</think>\n\n```json\n{"output": 6}\n```'
    with (
        CannedServer(answer) as upstream,
        FaultProxy(upstream.base_url, {1: "stall", 2: "stall"}) as proxy,
    ):
        cfg = openai_config(
            pairs, tmp_path / "t.jsonl", proxy.base_url, modes=["output"], openai={"timeout": 0.5}
        )
        stats = SynthRun(cfg, progress=False).run()
    rows = read_jsonl(cfg.output)
    assert [r["status"] for r in rows] == ["verified_first"]
    assert proxy.injected == {"stall": 2} and stats.retries == 2


def test_server_killed_mid_run_is_survived(llama_server, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "io.jsonl", PAIRS[:1])
    cfg = openai_config(
        pairs,
        tmp_path / "t.jsonl",
        llama_server.base_url,
        openai={"max_retries": 40, "backoff_max": 1.0},
        concurrency=1,
        revisions=0,
    )
    run = SynthRun(cfg, progress=False)
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["stats"] = run.run()
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    journal = journal_path(cfg.output)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and thread.is_alive():
        if journal.exists() and journal.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.05)
    llama_server.kill()
    time.sleep(1.5)  # requests fail while it is down
    llama_server.start()
    thread.join(timeout=300)
    assert "error" not in outcome, outcome.get("error")
    check_complete(read_jsonl(cfg.output), 1)
    assert outcome["stats"].retries >= 1  # type: ignore[attr-defined]


def test_kill_9_then_resume(llama_server, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "io.jsonl", PAIRS[:2])
    out = tmp_path / "t.jsonl"
    args = kodeio_cmd(
        "synth", "run", "--pairs", str(pairs), "-o", str(out), "--backend", "openai",
        "--model", "smollm2", "--base-url", llama_server.base_url, "--concurrency", "1",
        "--max-tokens", "16", "--revisions", "0",
    )  # fmt: skip
    proc = subprocess.Popen(args, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    journal = journal_path(out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    journaled = journal.read_bytes().count(b"\n")
    rerun = subprocess.run(args, capture_output=True, text=True, env=cli_env(), timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    rows = read_jsonl(out)
    check_complete(rows, 2)
    summary = " ".join(rerun.stderr.split())
    replayed = int(summary.split(" replayed")[0].split(", ")[-1].split()[0])
    assert replayed >= 1 and replayed <= journaled  # journaled completions were not regenerated
    cfg = openai_config(pairs, out, llama_server.base_url, revisions=0)
    assert sorted(r["id"] for r in rows) == expected_ids(cfg)


def test_fatal_http_error_is_one_line_and_key_never_leaks(llama_server, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "io.jsonl", PAIRS[:1])
    out = tmp_path / "t.jsonl"
    secret = "sk-kodeio-test-secret-1234"
    wrong = llama_server.base_url.replace("/v1", "/nope")
    proc = subprocess.run(
        kodeio_cmd(
            "synth",
            "run",
            "--pairs",
            str(pairs),
            "-o",
            str(out),
            "--backend",
            "openai",
            "--model",
            "smollm2",
            "--base-url",
            wrong,
        ),  # fmt: skip
        capture_output=True,
        text=True,
        env=cli_env(OPENAI_API_KEY=secret),
        timeout=120,
    )
    assert proc.returncode != 0
    assert "HTTP 404" in proc.stderr and "Traceback" not in proc.stderr
    everything = proc.stdout + proc.stderr
    for path in tmp_path.iterdir():
        everything += path.read_text(errors="replace") if path.is_file() else ""
    assert secret not in everything
