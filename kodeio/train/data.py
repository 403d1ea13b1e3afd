"""Training data: load `messages` conversations and reject bad rows before any model loads.

Accepted inputs (`--data`, repeatable):
- a directory written by `datasets.save_to_disk` (what `kodeio data mix` writes): a
  DatasetDict with `train` and optionally `eval` splits, or a single Dataset (all train);
- a JSONL file of `{"messages": [{"role": ..., "content": ...}, ...]}` rows (all train).

Each row also gets a group label, under which rows dropped for length are counted:
"mode/turn N" for exported traces (their `mode` and `turn`), else the row's `source`, else
"all".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kodeio.errors import InputError

ROLES = {"system", "user", "assistant", "tool"}
EVAL_SPLITS = ("eval", "validation", "test")


Rows = list[list[dict[str, str]]]


@dataclass
class Conversations:
    train: list[list[dict[str, Any]]] = field(default_factory=list)
    eval: list[list[dict[str, Any]]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    # One group label per row of train / eval (see `row_group`).
    train_groups: list[str] = field(default_factory=list)
    eval_groups: list[str] = field(default_factory=list)


def row_group(row: dict[str, Any]) -> str:
    """The row's group: "output/turn 2" for a trace with mode and turn, else source, or "all"."""
    mode, turn, source = row.get("mode"), row.get("turn"), row.get("source")
    if isinstance(mode, str) and mode and isinstance(turn, int) and not isinstance(turn, bool):
        return f"{mode}/turn {turn}"
    if isinstance(source, str) and source:
        return source
    return "all"


def check_messages(messages: Any, where: str) -> list[dict[str, str]]:
    """Validate one row's `messages`; return it as plain dicts. `where` names file and row."""
    if not isinstance(messages, list) or not messages:
        raise InputError(
            f"{where}: 'messages' must be a non-empty list of {{role, content}} objects"
        )
    clean: list[dict[str, str]] = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise InputError(f"{where}: messages[{i}] must be an object with 'role' and 'content'")
        role, content = msg.get("role"), msg.get("content")
        if role not in ROLES:
            raise InputError(
                f"{where}: messages[{i}].role is {role!r}; expected one of {', '.join(sorted(ROLES))}"
            )
        if not isinstance(content, str):
            raise InputError(
                f"{where}: messages[{i}].content must be a string, got {type(content).__name__}"
            )
        clean.append({"role": role, "content": content})
    if not any(m["role"] == "assistant" and m["content"].strip() for m in clean):
        raise InputError(
            f"{where}: no assistant turn; each conversation needs a non-empty 'assistant' message to train on"
        )
    if not any(m["role"] == "user" for m in clean):
        raise InputError(
            f"{where}: no user turn; expected a 'user' message before the assistant's answer"
        )
    return clean


Labelled = tuple[Rows, list[str]]  # rows and their group labels


def _rows_from_jsonl(path: Path) -> Labelled:
    from kodeio.files import iter_jsonl

    rows, groups = [], []
    for lineno, obj in iter_jsonl(path, required=["messages"]):
        rows.append(check_messages(obj["messages"], f"{path}:{lineno}"))
        groups.append(row_group(obj))
    return rows, groups


def _rows_from_dataset(ds: Any, where: str) -> Labelled:
    if "messages" not in ds.column_names:
        raise InputError(
            f"{where}: no 'messages' column (has {', '.join(ds.column_names) or 'no columns'})"
        )
    rows = [check_messages(m, f"{where} row {i}") for i, m in enumerate(ds["messages"])]
    labels = {k: ds[k] for k in ("mode", "turn", "source") if k in ds.column_names}
    groups = [row_group({k: v[i] for k, v in labels.items()}) for i in range(len(rows))]
    return rows, groups


def _load_dir(path: Path) -> tuple[Labelled, Labelled]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(f"{path}: not a dataset saved with save_to_disk ({exc})") from None
    if isinstance(loaded, datasets.DatasetDict):
        if "train" not in loaded:
            raise InputError(f"{path}: no 'train' split (has {', '.join(loaded) or 'none'})")
        train = _rows_from_dataset(loaded["train"], f"{path} split 'train'")
        eval_rows: Labelled = ([], [])
        for name in EVAL_SPLITS:
            if name in loaded:
                eval_rows = _rows_from_dataset(loaded[name], f"{path} split '{name}'")
                break
        return train, eval_rows
    return _rows_from_dataset(loaded, str(path)), ([], [])


def load_conversations(paths: list[str]) -> Conversations:
    """Read and validate every input; raise InputError naming the first bad file/row."""
    if not paths:
        raise InputError(
            "no training data: pass --data DIR_OR_JSONL (repeatable) or set train.data"
        )
    out = Conversations()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            train, eval_rows = _load_dir(path)
        elif path.is_file():
            if path.suffix not in (".jsonl", ".json"):
                raise InputError(
                    f"{path}: expected a .jsonl file of {{messages}} rows or a save_to_disk directory"
                )
            train, eval_rows = _rows_from_jsonl(path), ([], [])
        else:
            raise InputError(
                f"{path}: training data not found (expected a dataset directory or a .jsonl file)"
            )
        if not train[0]:
            raise InputError(f"{path}: empty dataset; expected at least one training conversation")
        out.train.extend(train[0])
        out.train_groups.extend(train[1])
        out.eval.extend(eval_rows[0])
        out.eval_groups.extend(eval_rows[1])
        out.sources.append(str(path))
    return out
