"""Backend details that need no big engine: replicas, reply shapes, engine settings,
and the transformers backend on the tiny Qwen2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kodeio.files import read_jsonl
from kodeio.llm.base import GenRequest, render_with_template
from kodeio.llm.config import OpenAIConfig, VllmConfig
from kodeio.llm.openai_backend import OpenAIBackend, completion_from_chat_message
from kodeio.llm.vllm_backend import engine_kwargs
from kodeio.synth.config import SynthConfig
from kodeio.synth.pipeline import SynthRun
from kodeio.testing.known_pairs import PAIRS, write_pairs
from kodeio.testing.servers import CannedServer, FaultProxy

ANSWER = 'n is 3.\n</think>\n\n```json\n{"output": 6}\n```'


def request(key: str) -> GenRequest:
    return GenRequest(key, ({"role": "user", "content": key},), 1, 16, 0.6, 0.95, 1)


def test_round_robin_over_replicas_and_429() -> None:
    with (
        CannedServer(ANSWER) as a,
        CannedServer(ANSWER) as b,
        FaultProxy(b.base_url, {1: "429"}) as proxy_b,
    ):
        cfg = OpenAIConfig(base_urls=[a.base_url, proxy_b.base_url], backoff_base=0.01)
        backend = OpenAIBackend("m", cfg, concurrency=4)
        try:
            results = list(backend.generate([request(f"r{i}") for i in range(10)]))
        finally:
            backend.close()
    assert len(results) == 10 and {r.request.key for r in results} == {f"r{i}" for i in range(10)}
    assert all(r.completions[0].text == ANSWER for r in results)
    assert a.hits >= 4 and b.hits >= 4  # both replicas served
    assert proxy_b.injected == {"429": 1} and backend.retries == 1


def test_chat_reply_shapes() -> None:
    assert (
        completion_from_chat_message({"content": "<think>\nhm\n</think>\n\nA"})
        == "hm\n</think>\n\nA"
    )
    folded = completion_from_chat_message({"reasoning_content": "hm", "content": "A"})
    assert folded == "hm\n</think>\n\nA"
    assert completion_from_chat_message({"content": "plain"}) == "plain"


def test_vllm_engine_settings() -> None:
    cpu = engine_kwargs("m", VllmConfig(kv_cache_gb=0.5, lora_path="/a"), seed=1, on_gpu=False)
    assert cpu["enforce_eager"] is True and cpu["kv_cache_memory_bytes"] == 512 * 1024**2
    assert cpu["enable_lora"] is True and "gpu_memory_utilization" not in cpu
    auto = engine_kwargs("m", VllmConfig(), seed=1, on_gpu=False)
    assert 256 * 1024**2 <= auto["kv_cache_memory_bytes"] <= 8 * 1024**3  # from free RAM
    gpu = engine_kwargs("m", VllmConfig(quantization="bitsandbytes"), seed=1, on_gpu=True)
    assert gpu["gpu_memory_utilization"] == 0.9 and gpu["enforce_eager"] is False
    assert gpu["quantization"] == "bitsandbytes" and "kv_cache_memory_bytes" not in gpu


def test_r1_generation_prompt_ends_in_think(tiny_model: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    text = render_with_template(tok, [{"role": "user", "content": "hi"}], think_prefix=True)
    assert text.endswith("<｜Assistant｜><think>\n") and text.count("<think>") == 1


@pytest.mark.slow
def test_transformers_backend_tiny(tiny_model: Path, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "io.jsonl", PAIRS[:1])
    cfg = SynthConfig.model_validate(
        {
            "pairs": str(pairs),
            "output": str(tmp_path / "t.jsonl"),
            "backend": "transformers",
            "model": str(tiny_model),
            "sampling": {"max_tokens": 8},
            "revisions": 0,
        }
    )
    stats = SynthRun(cfg, progress=False).run()
    rows = read_jsonl(cfg.output)
    assert len(rows) == 2 and stats.generated_requests == 2
    for row in rows:
        turn = row["turns"][0]
        assert 1 <= turn["tokens"]["completion"] <= 8  # random weights may hit EOS early
        assert turn["finish_reason"] in ("length", "stop")
        assert turn["tokens"]["prompt"] > 50


def test_llm_package_imports_no_stage() -> None:
    # kodeio.llm is the layer under synth and eval: importing all of it loads neither.
    code = (
        "import sys, kodeio.llm, kodeio.llm.journal, kodeio.llm.scripted, "
        "kodeio.llm.openai_backend, kodeio.llm.vllm_backend, kodeio.llm.transformers_backend\n"
        "higher = ('synth', 'eval', 'data', 'train', 'export', 'scale', 'pipeline', 'cli')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[:2][-1] in higher "
        "and m.startswith('kodeio.')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_every_stage_config_gives_the_same_engine(tmp_path: Path) -> None:
    from kodeio.eval.config import ModelEvalConfig
    from kodeio.llm.config import EngineConfig
    from kodeio.synth.unify import UnifyConfig

    keys = {
        "backend": "openai",
        "model": "m",
        "think_prefix": False,
        "concurrency": 3,
        "sampling": {"seed": 7, "temperature": 0.2},
        "openai": {"base_urls": ["http://h:1/v1"]},
        "vllm": {"max_model_len": 512},
        "transformers": {"dtype": "bfloat16"},
        "script": str(tmp_path / "s.json"),
    }
    want = EngineConfig(
        backend="openai",
        model="m",
        think_prefix=False,
        concurrency=3,
        seed=7,
        openai=OpenAIConfig(base_urls=["http://h:1/v1"]),
        vllm=VllmConfig(max_model_len=512),
        transformers={"dtype": "bfloat16"},
        script=tmp_path / "s.json",
    )
    for stage in (SynthConfig, UnifyConfig, ModelEvalConfig):
        assert stage.model_validate(keys).engine() == want, stage.__name__
