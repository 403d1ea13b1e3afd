"""The generation journal: every completion the engine returned, keyed by request hash.

Generation is the expensive part, so each `GenResult` is appended to `OUT.gen.jsonl` (one
flushed line) the moment it arrives, before it is verified. After a kill -9 a rerun finds
its completions here and only asks the engine for requests that are missing. Only byte
offsets are kept in memory, so a journal of millions of traces costs little RAM.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kodeio.files import dumps
from kodeio.llm.base import Completion, GenRequest, GenResult


def journal_path(output: Path) -> Path:
    return output.with_name(output.name + ".gen.jsonl")


class GenerationJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.offsets: dict[str, int] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        self._recover()
        self._fh = path.open("ab")
        self._reader = path.open("rb")

    def _recover(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1  # a line torn by kill -9 is cut off
        if keep != len(data):
            with self.path.open("r+b") as fh:
                fh.truncate(keep)
        offset = 0
        for line in data[:keep].splitlines(keepends=True):
            if line.strip():
                self.offsets[json.loads(line)["key"]] = offset
            offset += len(line)

    def __contains__(self, key: str) -> bool:
        return key in self.offsets

    def __len__(self) -> int:
        return len(self.offsets)

    def get(self, request: GenRequest) -> GenResult | None:
        offset = self.offsets.get(request.key)
        if offset is None:
            return None
        self._reader.seek(offset)
        row = json.loads(self._reader.readline())
        completions = [Completion.from_row(c) for c in row["completions"]]
        return GenResult(request, completions, int(row.get("prompt_tokens", 0)))

    def add(self, result: GenResult) -> None:
        self.add_row(
            {
                "key": result.request.key,
                "prompt_tokens": result.prompt_tokens,
                "completions": [c.to_row() for c in result.completions],
            }
        )

    def add_row(self, row: dict[str, Any]) -> None:
        """A journal row as `add` writes it (e.g. one a Ray task's journal holds)."""
        offset = self._fh.tell()
        self._fh.write((dumps(row) + "\n").encode("utf-8"))
        self._fh.flush()
        self.offsets[row["key"]] = offset

    def close(self) -> None:
        self._fh.close()
        self._reader.close()
