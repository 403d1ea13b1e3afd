"""configs/teacher-api.yaml end to end: synthesis through an OpenAI-compatible teacher that
demands a key (llama.cpp's server on loopback, SmolLM2 standing in for a real reasoning
model), the student trained, evaluated and exported here; the key is in no file or log."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "configs" / "teacher-api.yaml"
SECRET = "kodeio-test-key-7f3a9c2e51d04b8e"


def test_teacher_recipe_runs_and_never_writes_the_key(make_llama_server, tmp_path):
    server = make_llama_server(log=tmp_path / "server.log", extra=("--api_key", SECRET))
    server.start()
    try:
        # The server really refuses a request without the key.
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/v1/models")
        assert conn.getresponse().status == 401
        run_dir = tmp_path / "run"
        env = {**os.environ, "KODEIO_TEACHER_API_KEY": SECRET, "TOKENIZERS_PARALLELISM": "false"}
        sets = [
            f"run_dir={run_dir}",
            f"synth.openai.base_urls=[{server.base_url}]",
            "synth.model=smollm2",
            "synth.concurrency=2",
            "synth.max_pairs=4",
            "synth.sampling.max_tokens=48",
            "train.max_steps=2",
            "train.max_seq_length=256",
            "eval.backend=transformers",
            "eval.max_items=2",
            "eval.sampling.max_tokens=16",
            "eval.mcqa.sampling.max_tokens=8",
            "export.quant=[f16]",
            "export.verify=false",
        ]
        args = [sys.executable, "-m", "kodeio.cli", "run", "-c", str(RECIPE)]
        for s in sets:
            args += ["--set", s]
        proc = subprocess.run(
            args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800
        )
    finally:
        server.stop()
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    synth = manifest["stages"]["synth"]["counts"]
    assert synth["traces"] == 8  # 4 pairs x 2 modes, every one answered through the key
    traces = [json.loads(x) for x in (run_dir / "synth" / "traces.jsonl").read_text().splitlines()]
    assert all(t["turns"][0]["completion"] for t in traces)
    assert manifest["stages"]["export"]["status"] == "done"
    # Nowhere: not in the console, the run's files (traces, journals, cards, report, run.json,
    # logs), nor the server's own log.
    assert SECRET not in output
    leaked = [p for p in run_dir.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == []
