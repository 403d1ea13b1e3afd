"""`kodeio chat`: the think/answer display, llama.cpp on the real SmolLM2 GGUF, and
transformers (+ a PEFT adapter) on the tiny R1-family model."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kodeio.chat import ChatSession, ChatSettings, ThinkSplitter, answer_part, open_engine
from kodeio.cli import main
from kodeio.errors import InputError


def _split(chunks: list[str], in_think: bool) -> list[tuple[str, str]]:
    splitter = ThinkSplitter(in_think)
    pieces = [p for chunk in chunks for p in splitter.feed(chunk)] + list(splitter.flush())
    merged: list[tuple[str, str]] = []
    for kind, text in pieces:  # adjacent pieces of one kind read as one
        if merged and merged[-1][0] == kind and kind != "tag":
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged


@pytest.mark.parametrize("step", [1, 2, 3, 5, 100])
def test_splitter_handles_tags_split_across_chunks(step):
    text = "<think>a < b, so </thin is not a tag</think>The answer is 4."
    chunks = [text[i : i + step] for i in range(0, len(text), step)]
    assert _split(chunks, in_think=False) == [
        ("tag", "<think>"),
        ("think", "a < b, so </thin is not a tag"),
        ("tag", "</think>"),
        ("answer", "The answer is 4."),
    ]


def test_splitter_starting_inside_think_and_without_tags():
    # R1 templates open <think> in the prompt: the completion starts in the reasoning.
    assert _split(["reason", "ing</", "think>\n\nok"], in_think=True) == [
        ("think", "reasoning"),
        ("tag", "</think>"),
        ("answer", "\n\nok"),
    ]
    assert _split(["plain <b>answer</b> <"], in_think=False) == [
        ("answer", "plain <b>answer</b> <")
    ]
    assert answer_part("<think>x</think>\n final ") == "final"


class ScriptedEngine:
    """Streams fixed replies; records the messages it was sent (display logic only)."""

    def __init__(self, replies: list[list[str]], in_think: bool) -> None:
        self.replies = replies
        self.in_think = in_think
        self.seen: list[list[dict[str, str]]] = []

    def starts_in_think(self, messages: list[dict[str, str]]) -> bool:
        return self.in_think

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        self.seen.append(list(messages))
        yield from self.replies[len(self.seen) - 1]

    def close(self) -> None:
        pass


def test_session_dims_reasoning_and_keeps_only_answers_in_history():
    engine = ScriptedEngine([["3 + 1 ", "is 4</th", "ink>\n4"], ["again</think>5"]], in_think=True)
    out = io.StringIO()
    session = ChatSession(engine, ChatSettings(), out=out, color=True)
    assert session.turn("2+2?") == "<think>3 + 1 is 4</think>\n4"
    session.turn("and 2+3?")
    text = out.getvalue()
    dim = "\x1b[2m"
    assert f"{dim}3 + 1 " in text and f"{dim}is 4" in text
    # The answer itself is printed without the dim style.
    answer_at = text.index("\n4")
    assert not text[:answer_at].endswith(dim)
    assert engine.seen[1] == [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "and 2+3?"},
    ]
    session.reset()
    assert session.history == []


def test_repl_reads_stdin_lines_reset_and_exit():
    engine = ScriptedEngine([["a"], ["b"]], in_think=False)
    session = ChatSession(engine, ChatSettings(system="be brief"), out=io.StringIO())
    session.repl(io.StringIO("one\n\n/reset\ntwo\n/exit\nnever\n"))
    assert [m[-1]["content"] for m in engine.seen] == ["one", "two"]
    assert engine.seen[1][0] == {"role": "system", "content": "be brief"}
    assert len(engine.seen[1]) == 2  # history was reset between the turns


def test_bad_model_arguments_are_one_line_errors(tmp_path, capsys):
    with pytest.raises(InputError, match="GGUF file not found"):
        open_engine(str(tmp_path / "missing.gguf"), ChatSettings())
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a gguf at all")
    assert main(["chat", str(fake), "--prompt", "hi"]) == 1
    assert "not a GGUF file" in capsys.readouterr().err
    with pytest.raises(InputError, match="adapter directory not found"):
        open_engine(str(tmp_path), ChatSettings(), adapter=tmp_path / "nope")


def test_gguf_through_llama_cpp_stops_at_eos(smollm2_gguf):
    settings = ChatSettings(temperature=0.0, max_tokens=64, n_ctx=512)
    engine = open_engine(str(smollm2_gguf), settings)
    assert engine.starts_in_think([{"role": "user", "content": "hi"}]) is False
    out = io.StringIO()
    reply = ChatSession(engine, settings, out=out).turn("What is 2+2?")
    assert "4" in reply and out.getvalue().strip() == reply.strip()
    assert engine.last_finish_reason == "stop"  # EOS from the GGUF, well before max_tokens
    engine.close()


# Run in a child pinned to the given CPUs: llama.cpp's thread count and threads alive.
_THREADS_CHILD = """
import json, os, sys
from pathlib import Path
os.sched_setaffinity(0, set(json.loads(sys.argv[2])))
from kodeio.chat import ChatSettings, open_engine
before = len(os.listdir("/proc/self/task"))
engine = open_engine(sys.argv[1], ChatSettings(temperature=0.0, max_tokens=4, n_ctx=256))
"".join(engine.stream([{"role": "user", "content": "Hi"}]))
after = len(os.listdir("/proc/self/task"))
print(json.dumps([engine.llm.n_threads, engine.llm.context_params.n_threads, after - before]))
"""


def test_llama_cpp_gets_one_thread_per_allowed_core(smollm2_gguf):
    """Not os.cpu_count(): the cores this process may use (taskset, cpusets)."""
    import os

    from kodeio.cpu import usable_cores

    cores = usable_cores()
    repo = Path(__file__).resolve().parents[2]
    seen = {}
    for pinned in ([cores[0]], cores[:2]):
        proc = subprocess.run(
            [sys.executable, "-c", _THREADS_CHILD, str(smollm2_gguf), str(pinned)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(repo)},
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        n_threads, ctx_threads, started = json.loads(proc.stdout.strip().splitlines()[-1])
        assert n_threads == ctx_threads == len(pinned)
        seen[len(pinned)] = started
    if len(cores) >= 2:  # each extra core is one more decoding thread alive
        assert seen[2] - seen[1] == 1


def test_chat_command_with_piped_stdin(smollm2_gguf):
    proc = subprocess.run(
        [sys.executable, "-m", "kodeio.cli", "chat", str(smollm2_gguf), "--temperature", "0"]
        + ["--max-tokens", "24", "--ctx", "512"],
        input="What is 2+2?\n/reset\nWrite a haiku about the sea.\n",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert "4" in lines[0] and "\x1b[" not in proc.stdout  # piped: plain text
    assert len(lines) >= 2 and ("sea" in lines[1].lower() or "wave" in lines[1].lower())


def test_hf_directory_streams_like_generate_and_adapter_applies(tiny_model, tiny_adapter):
    import torch

    settings = ChatSettings(temperature=0.0, max_tokens=16)
    messages = [{"role": "user", "content": "What is 2+2?"}]
    engine = open_engine(str(tiny_model), settings)
    # The R1-distill template opens <think> in the generation prompt.
    assert engine.starts_in_think(messages) is True
    streamed = "".join(engine.stream(messages))

    tok, model = engine.tokenizer, engine.model
    prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        full = model.generate(**ids, max_new_tokens=16, do_sample=False)
    expected = tok.decode(full[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
    assert streamed == expected and streamed

    with_adapter = open_engine(str(tiny_model), settings, adapter=tiny_adapter)
    assert type(with_adapter.model).__name__.startswith("Peft")
    assert "".join(with_adapter.stream(messages)) != streamed


def test_r1_gguf_opens_think_in_the_prompt(tiny_model, tmp_path):
    """An exported R1-distill GGUF: the template from its metadata ends the generation prompt
    with <think>, so the whole completion up to </think> is shown as reasoning."""
    from kodeio.export.llamacpp import convert, find_llama_cpp

    try:
        llama_dir = find_llama_cpp(fetch=False)
    except InputError as exc:
        pytest.fail(f"{exc} (./scripts/setup.sh installs it)", pytrace=False)
    gguf = tmp_path / "tiny-r1.gguf"
    convert(llama_dir, tiny_model, gguf, "f16", tmp_path / "convert.log")
    settings = ChatSettings(temperature=0.0, max_tokens=6, n_ctx=256)
    engine = open_engine(str(gguf), settings)
    try:
        messages = [{"role": "user", "content": "hi"}]
        assert engine.starts_in_think(messages) is True
        out = io.StringIO()
        reply = ChatSession(engine, settings, out=out, color=True).turn("hi")
        assert reply.startswith("<think>") and engine.last_finish_reason == "length"
        # Random weights never close </think>: everything printed is dimmed reasoning.
        assert out.getvalue().startswith("\x1b[2m<think>")
    finally:
        engine.close()
