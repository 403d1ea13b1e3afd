"""`kodeio chat MODEL_OR_GGUF`: a small streaming terminal chat to try a model at once.

Two engines behind one interface:
- a `.gguf` file runs through llama.cpp (`llama_cpp.Llama`); the chat template and the EOS
  token come from the GGUF's own metadata, so generation stops where the model says it ends;
- a Hugging Face model directory (or a named model such as `smollm2-135m`), optionally with
  a PEFT LoRA adapter, runs through transformers with a `TextIteratorStreamer`.

Reasoning models write `<think> ... </think>` before the answer; the reasoning is shown
dimmed and the answer in normal text. Only the answer goes back into the history, as
DeepSeek-R1 recommends for multi-turn chats (its template drops the reasoning anyway).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from kodeio.cpu import llama_threads
from kodeio.errors import InputError

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


@dataclass(frozen=True)
class ChatSettings:
    system: str | None = None
    max_tokens: int = 1024
    temperature: float = 0.6  # R1's recommendation; 0 means greedy
    top_p: float = 0.95
    seed: int = 0
    n_ctx: int = 4096  # llama.cpp context window
    threads: int | None = None


class ChatEngine(Protocol):
    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """Yield the assistant's reply text piece by piece."""
        ...

    def starts_in_think(self, messages: list[dict[str, str]]) -> bool:
        """True when the generation prompt already opened `<think>` (R1 templates do)."""
        ...

    def close(self) -> None:
        """Free the model now rather than at interpreter exit."""
        ...


# ---- engines --------------------------------------------------------------------------------


class LlamaCppEngine:
    """A GGUF through llama.cpp, with the chat template from the GGUF metadata."""

    def __init__(self, path: Path, settings: ChatSettings, lora: Path | None = None) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise InputError(
                f"{path}: chatting with a GGUF needs llama-cpp-python; "
                "install it with: pip install 'kodeio[gguf]'"
            ) from None
        self.settings = settings
        kwargs: dict[str, Any] = {
            "model_path": str(path),
            "n_ctx": settings.n_ctx,
            "seed": settings.seed,
            "n_threads": settings.threads or llama_threads(),
            "verbose": False,
        }
        if lora is not None:
            kwargs["lora_path"] = str(lora)
        try:
            self.llm = Llama(**kwargs)
        except (ValueError, RuntimeError) as exc:
            raise InputError(f"{path}: llama.cpp could not load this GGUF ({exc})") from None
        self.template = str(self.llm.metadata.get("tokenizer.chat_template", ""))
        self.last_finish_reason: str | None = None  # "stop" (EOS) or "length" (max_tokens)

    def _prompt(self, messages: list[dict[str, str]]) -> str:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        def token_text(token: int) -> str:
            if token < 0:
                return ""
            return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

        formatter = Jinja2ChatFormatter(
            template=self.template,
            eos_token=token_text(self.llm.token_eos()),
            bos_token=token_text(self.llm.token_bos()),
        )
        return formatter(messages=messages).prompt  # type: ignore[arg-type]

    def starts_in_think(self, messages: list[dict[str, str]]) -> bool:
        # R1-distill templates end the generation prompt with "<think>\n".
        return bool(self.template) and self._prompt(messages).rstrip().endswith(THINK_OPEN)

    def close(self) -> None:
        self.llm.close()

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        s = self.settings
        chunks = self.llm.create_chat_completion(
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            top_p=s.top_p,
            seed=s.seed,
        )
        self.last_finish_reason = None
        for chunk in chunks:
            choice = chunk["choices"][0]  # type: ignore[index]
            self.last_finish_reason = choice.get("finish_reason") or self.last_finish_reason
            text = choice.get("delta", {}).get("content")
            if text:
                yield text


class TransformersEngine:
    """A Hugging Face checkpoint (+ optional PEFT adapter), streamed token by token."""

    def __init__(self, model_dir: Path, settings: ChatSettings, adapter: Path | None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        self.settings = settings
        hf_logging.disable_progress_bar()  # the chat owns the terminal
        if settings.threads:
            torch.set_num_threads(settings.threads)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
            model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise InputError(f"{model_dir}: not a loadable model directory ({exc})") from None
        if adapter is not None:
            from peft import PeftModel

            if not (adapter / "adapter_config.json").is_file():
                raise InputError(f"{adapter}: not a PEFT adapter (adapter_config.json missing)")
            model = PeftModel.from_pretrained(model, str(adapter))
        if not getattr(self.tokenizer, "chat_template", None):
            raise InputError(f"{model_dir}: the tokenizer has no chat template")
        self.model = model.eval()

    def _prompt(self, messages: list[dict[str, str]]) -> str:
        return self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )

    def starts_in_think(self, messages: list[dict[str, str]]) -> bool:
        return self._prompt(messages).rstrip().endswith(THINK_OPEN)

    def close(self) -> None:
        pass  # torch frees the weights with the object

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        import threading

        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        s = self.settings
        prompt = self._prompt(messages)
        # The template already wrote BOS and the special tokens.
        inputs = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600
        )
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": s.temperature, "top_p": s.top_p}
            if s.temperature > 0
            else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        )
        torch.manual_seed(s.seed)
        errors: list[BaseException] = []
        # Set when the reader stops early (Ctrl-C in the chat): generate() then stops too.
        cancelled = threading.Event()

        def stop_when_cancelled(input_ids: Any, scores: Any, **kwargs: Any) -> bool:
            return cancelled.is_set()

        def generate() -> None:
            try:
                with torch.no_grad():
                    self.model.generate(
                        **inputs,
                        streamer=streamer,
                        max_new_tokens=s.max_tokens,
                        pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
                        stopping_criteria=StoppingCriteriaList([stop_when_cancelled]),
                        **sampling,
                    )
            except BaseException as exc:  # surfaced in the main thread below
                errors.append(exc)
                streamer.end()

        worker = threading.Thread(target=generate, daemon=True)
        worker.start()
        try:
            yield from streamer
        finally:
            cancelled.set()
            worker.join()
        if errors:
            raise errors[0]


def open_engine(model: str, settings: ChatSettings, adapter: Path | None = None) -> ChatEngine:
    """Pick the engine from what MODEL names: a .gguf file, a directory, or a known model."""
    path = Path(model).expanduser()
    if path.suffix.lower() == ".gguf" or path.is_file():
        if not path.is_file():
            raise InputError(f"{path}: GGUF file not found")
        with path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                raise InputError(f"{path}: not a GGUF file (bad magic); expected a .gguf model")
        lora = None
        if adapter is not None:
            if adapter.suffix.lower() != ".gguf":
                raise InputError(
                    f"--adapter {adapter}: a GGUF model takes a GGUF LoRA adapter; for a PEFT "
                    "adapter directory chat with the Hugging Face model directory instead"
                )
            lora = adapter
        return LlamaCppEngine(path, settings, lora)
    if adapter is not None and not adapter.is_dir():
        raise InputError(f"--adapter {adapter}: adapter directory not found")
    if path.is_dir():
        return TransformersEngine(path, settings, adapter)
    from kodeio.models import resolve_model_dir

    return TransformersEngine(resolve_model_dir(model), settings, adapter)


# ---- display --------------------------------------------------------------------------------


class ThinkSplitter:
    """Splits a token stream into ("think", text) and ("answer", text) pieces.

    Tags may arrive split across chunks ("</th" + "ink>"), so a tail that could still be the
    start of a tag is held back until the next chunk decides it.
    """

    def __init__(self, in_think: bool) -> None:
        self.in_think = in_think
        self.pending = ""

    def feed(self, text: str) -> Iterator[tuple[str, str]]:
        self.pending += text
        while self.pending:
            tag = THINK_CLOSE if self.in_think else THINK_OPEN
            kind = "think" if self.in_think else "answer"
            at = self.pending.find(tag)
            if at >= 0:
                if at:
                    yield kind, self.pending[:at]
                yield "tag", tag
                self.pending = self.pending[at + len(tag) :]
                self.in_think = not self.in_think
                continue
            keep = _partial_suffix(self.pending, tag)
            emit = self.pending[: len(self.pending) - keep]
            if emit:
                yield kind, emit
            self.pending = self.pending[len(emit) :]
            break

    def flush(self) -> Iterator[tuple[str, str]]:
        if self.pending:
            yield ("think" if self.in_think else "answer"), self.pending
            self.pending = ""


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag`."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0


def answer_part(reply: str) -> str:
    """What goes back into the history: the text after the last </think>."""
    return reply.rsplit(THINK_CLOSE, 1)[-1].strip()


class ChatSession:
    def __init__(
        self,
        engine: ChatEngine,
        settings: ChatSettings,
        out: TextIO | None = None,
        color: bool | None = None,
    ) -> None:
        from rich.console import Console

        self.engine = engine
        self.settings = settings
        # color=None: styled on a terminal, plain text when piped.
        self.console = Console(
            file=out or sys.stdout, highlight=False, soft_wrap=True, force_terminal=color
        )
        self.history: list[dict[str, str]] = []
        if settings.system:
            self.history.append({"role": "system", "content": settings.system})

    def reset(self) -> None:
        self.history = [m for m in self.history if m["role"] == "system"]

    def turn(self, user_text: str) -> str:
        """Send one user message, print the streamed reply, return the full reply text."""
        messages = [*self.history, {"role": "user", "content": user_text}]
        in_think = self.engine.starts_in_think(messages)
        splitter = ThinkSplitter(in_think)
        parts: list[str] = [THINK_OPEN] if in_think else []
        if in_think:
            self._show("tag", THINK_OPEN)
        for chunk in self.engine.stream(messages):
            parts.append(chunk)
            for kind, text in splitter.feed(chunk):
                self._show(kind, text)
        for kind, text in splitter.flush():
            self._show(kind, text)
        self.console.print()
        reply = "".join(parts)
        self.history = [*messages, {"role": "assistant", "content": answer_part(reply)}]
        return reply

    def _show(self, kind: str, text: str) -> None:
        style = "dim" if kind in ("think", "tag") else None
        self.console.print(text, style=style, end="", markup=False)
        self.console.file.flush()

    def repl(self, stdin: TextIO) -> None:
        """Read user turns line by line until EOF or /exit; /reset clears the history."""
        interactive = stdin.isatty()
        if interactive:
            self.console.print(
                "[bold]kodeio chat[/] — /reset clears the history, /exit or Ctrl-D quits",
                markup=True,
            )
        while True:
            if interactive:
                try:
                    line = self.console.input("[bold cyan]>[/] ") + "\n"  # readline editing
                except EOFError:
                    break
            else:
                line = stdin.readline()
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            if text in ("/exit", "/quit"):
                break
            if text == "/reset":
                self.reset()
                continue
            try:
                self.turn(text)
            except KeyboardInterrupt:
                # Ctrl-C stops this reply only; the unfinished turn is not kept.
                self.console.print("\n[interrupted]", style="dim", markup=False)
                if not interactive:
                    raise
