"""Completions and `verification_info` rows to VerifyItems, and verdicts to scores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kodeio.errors import InputError
from kodeio.synth.verify import VerifyItem
from kodeio.synth.verify.extract import THINK_CLOSE, Extraction
from kodeio.synth.verify.formats import item_from_row

# The fields a `verification_info` dict may hold: VerifyItem's, less `id` and `prediction`.
INFO_KEYS = frozenset(
    {
        "code",
        "entry",
        "mode",
        "input",
        "output",
        "output_repr",
        "policy",
        "seed",
        "prediction_is_answer",
        "cruxeval_rules",
    }
)
_WHERE = Path("verification_info")


def completion_text(completion: Any) -> str:
    """The model's text: a string as it is, or the last assistant message of a chat list."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content(completion.get("content"))
    if isinstance(completion, list):
        for message in reversed(completion):
            if isinstance(message, dict) and message.get("role", "assistant") == "assistant":
                return _content(message.get("content"))
        return ""
    raise TypeError(f"a completion must be a string or a list of messages, got {completion!r}")


def _content(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def info_dict(info: Any, index: int) -> dict[str, Any]:
    """One `verification_info` value as a dict (a JSON string is read, as verl stores it)."""
    if isinstance(info, str):
        try:
            info = json.loads(info)
        except json.JSONDecodeError as exc:
            raise InputError(f"verification_info[{index}]: not JSON ({exc.msg})") from None
    if not isinstance(info, dict):
        raise InputError(f"verification_info[{index}]: expected an object, got {info!r:.60}")
    unknown = sorted(set(info) - INFO_KEYS)
    if unknown:
        raise InputError(
            f"verification_info[{index}]: unknown key {unknown[0]!r}; "
            f"expected some of {', '.join(sorted(INFO_KEYS))}"
        )
    return info


def make_item(info: dict[str, Any], text: str, index: int, trust_model_code: bool) -> VerifyItem:
    # Dataset columns fill absent keys with None: treat those as absent.
    row = {k: v for k, v in info.items() if v is not None or k in ("input", "output")}
    if row.get("output_repr") is not None and row.get("output") is None:
        row.pop("output", None)
    if not trust_model_code:
        row["cruxeval_rules"] = False  # its expression checks run model text as code
    row.update(id=str(index), prediction=text)
    return item_from_row(_WHERE, index, row, "kodeio")


def well_formed(text: str, ext: Extraction | None) -> bool:
    """One closed `</think>` and an answer that parses after it."""
    return (
        ext is not None
        and ext.ok
        and not ext.unterminated
        and text.count(THINK_CLOSE) == 1
        and text.count("<think>") <= 1
    )
