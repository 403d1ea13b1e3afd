"""Reading the mix's sources: each row becomes a `Sample` (a checked conversation).

Rows are read in file order; a row id is `<source>:<id>` (or `<source>:L<line>` when the row
has no usable or unique id). A malformed row stops the run with one line naming file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kodeio.data.formatting import (
    Message,
    ThinkMissing,
    assistant_turn,
    seeded_rng,
    translation_messages,
)
from kodeio.data.hf import iter_hf_conversations
from kodeio.data.mix.config import HfSource, MessagesSource, PairsSource, Source, TracesSource
from kodeio.data.text import has_think_block, split_think
from kodeio.errors import InputError

ROLES = ("system", "user", "assistant")


@dataclass
class Sample:
    id: str
    source: str
    messages: list[Message]
    dedup_text: str
    num_tokens: int | None = None
    # From traces exported by `kodeio synth export` (kodeio/synth/traces.py), where present:
    # the pair's difficulty band, and whether its Korean reasoning drifted (language_mismatch).
    band: str | None = None
    language_mismatch: bool = False
    # Also from exported traces: the task mode ("output"/"input") and how many assistant
    # turns the conversation has (1: first answer, 2: after one revision). The length filter
    # and the trainer count dropped rows by them.
    mode: str | None = None
    turn: int | None = None

    @property
    def length_group(self) -> str:
        """How dropped rows are counted: "mode/turn N" for traces, else the source name."""
        if self.mode is not None and self.turn is not None:
            return f"{self.mode}/turn {self.turn}"
        return self.source


def validate_messages(value: Any, where: str) -> list[Message]:
    """A clean [{role, content}] list; anything else is an InputError naming `where`."""
    if not isinstance(value, list) or not value:
        raise InputError(f"{where}: 'messages' must be a non-empty list of {{role, content}}")
    out: list[Message] = []
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise InputError(
                f"{where}: messages[{i}] is {type(message).__name__}, expected an object"
            )
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise InputError(
                f"{where}: messages[{i}].role is {role!r}; expected one of {', '.join(ROLES)}"
            )
        if not isinstance(content, str):
            raise InputError(f"{where}: messages[{i}].content must be a string")
        out.append({"role": role, "content": content})
    if out[-1]["role"] != "assistant" or not any(m["role"] == "user" for m in out):
        raise InputError(f"{where}: expected user turn(s) and a final assistant turn")
    return out


def conversation_dedup_text(messages: list[Message]) -> str:
    """What makes two conversations 'the same': the user turns and the final answer.

    The reasoning is left out on purpose: two traces with the same question and answer are
    duplicates even when their chains of thought differ in wording.
    """
    users = [m["content"] for m in messages if m["role"] == "user"]
    _, answer = split_think(messages[-1]["content"])
    return "\n".join([*users, answer])


def _with_think(messages: list[Message], think_missing: ThinkMissing) -> list[Message]:
    if think_missing == "none":
        return messages
    return [
        {"role": "assistant", "content": assistant_turn(m["content"], None, "empty")}
        if m["role"] == "assistant" and not has_think_block(m["content"])
        else m
        for m in messages
    ]


def _row_id(source: str, obj: dict[str, Any], lineno: int, seen: set[str]) -> str:
    raw = obj.get("id")
    sid = f"{source}:{raw}" if isinstance(raw, str | int) and str(raw) else f"{source}:L{lineno}"
    if sid in seen:
        sid = f"{source}:L{lineno}"
    seen.add(sid)
    return sid


def iter_source(source: Source, seed: int, think_missing: ThinkMissing) -> Iterator[Sample]:
    """The source's rows as samples, in file (or dataset) order, at most `source.limit`."""
    if isinstance(source, TracesSource | MessagesSource):
        return _limited(_conversation_rows(source, think_missing), source.limit)
    if isinstance(source, PairsSource):
        return _limited(_pair_rows(source, seed, think_missing), source.limit)
    return _hf_rows(source, think_missing)


def _limited(samples: Iterator[Sample], limit: int | None) -> Iterator[Sample]:
    # Stops right after the limit-th row, so rows past it are never read or checked.
    for n, sample in enumerate(samples, 1):
        yield sample
        if limit and n >= limit:
            return


def _conversation_rows(
    source: TracesSource | MessagesSource, think_missing: ThinkMissing
) -> Iterator[Sample]:
    from kodeio.files import iter_jsonl

    seen: set[str] = set()
    for lineno, obj in iter_jsonl(source.path, required=("messages",)):
        where = f"{source.path}:{lineno}"
        messages = validate_messages(obj["messages"], where)
        if isinstance(source, TracesSource):
            if not has_think_block(messages[-1]["content"]):
                raise InputError(
                    f"{where}: the assistant turn has no <think>…</think> block; expected a "
                    "verified trace as written by `kodeio synth export` (use kind: messages "
                    "for plain conversations)"
                )
        else:
            messages = _with_think(messages, think_missing)
        language = obj.get("language")
        mode, turn = _mode_turn(obj, where) if isinstance(source, TracesSource) else (None, None)
        yield Sample(
            _row_id(source.name, obj, lineno, seen),
            source.name,
            messages,
            conversation_dedup_text(messages),
            band=obj["band"] if isinstance(obj.get("band"), str) else None,
            language_mismatch=isinstance(language, dict) and language.get("mismatch") is True,
            mode=mode,
            turn=turn,
        )


def _mode_turn(obj: dict[str, Any], where: str) -> tuple[str | None, int | None]:
    """`mode` and `turn` of an exported trace row; older exports have neither (None)."""
    mode, turn = obj.get("mode"), obj.get("turn")
    if mode is not None and not isinstance(mode, str):
        raise InputError(f"{where}: key 'mode' must be a string, got {type(mode).__name__}")
    if turn is not None and (isinstance(turn, bool) or not isinstance(turn, int) or turn < 1):
        raise InputError(f"{where}: key 'turn' must be a positive integer, got {turn!r}")
    return mode, turn


def _pair_rows(source: PairsSource, seed: int, think_missing: ThinkMissing) -> Iterator[Sample]:
    from kodeio.files import iter_jsonl

    seen: set[str] = set()
    for lineno, obj in iter_jsonl(source.path, required=("ko", "en")):
        ko, en = obj["ko"], obj["en"]
        if not isinstance(ko, str) or not isinstance(en, str) or not ko.strip() or not en.strip():
            raise InputError(f"{source.path}:{lineno}: 'ko' and 'en' must be non-empty strings")
        sid = _row_id(source.name, {}, lineno, seen)
        direction = source.direction
        if direction == "both":
            direction = seeded_rng(seed, f"direction\x1f{sid}").choice(("ko-en", "en-ko"))
        messages = translation_messages(
            ko, en, direction, seed=seed, key=sid, think_missing=think_missing
        )
        yield Sample(sid, source.name, messages, f"{ko}\n{en}")


def _hf_rows(source: HfSource, think_missing: ThinkMissing) -> Iterator[Sample]:
    # The limit goes to the dataset reader, which then reads no more rows than that.
    spec = source.dataset
    if source.limit and (spec.limit is None or spec.limit > source.limit):
        spec = spec.model_copy(update={"limit": source.limit})
    for row in iter_hf_conversations(spec, think_missing):
        index = row["id"].rsplit(":", 1)[1]
        messages = row["messages"]
        yield Sample(
            f"{source.name}:{index}", source.name, messages, conversation_dedup_text(messages)
        )
