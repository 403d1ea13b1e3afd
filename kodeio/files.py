"""File plumbing shared by every stage: JSONL in and out, atomic writes, resumable outputs.

Stages talk through JSONL files. An output being written lives at `OUT.partial` and is
renamed to `OUT` only when complete, so a reader never sees half a file. A rerun after a
kill resumes from the `.partial` file: complete lines are kept, a torn last line is cut.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kodeio.errors import InputError


def dumps(row: Any) -> str:
    """The one JSON spelling used for every JSONL row (stable bytes across runs)."""
    return json.dumps(row, ensure_ascii=False, sort_keys=False, separators=(",", ":"))


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_jsonl(path: str | Path, rows: Iterable[Any]) -> int:
    """Write all rows atomically; returns the count."""
    n = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(dumps(row) + "\n")
            n += 1
    return n


def iter_jsonl(
    path: str | Path, required: Iterable[str] = ()
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (1-based line number, object). Bad lines raise InputError naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    required = tuple(required)
    try:
        with path.open("r", encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
                if not isinstance(obj, dict):
                    raise InputError(
                        f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}"
                    )
                missing = [k for k in required if k not in obj]
                if missing:
                    raise InputError(f"{path}:{lineno}: missing key(s) {', '.join(missing)}")
                yield lineno, obj
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; expected JSONL") from None


def read_jsonl(path: str | Path, required: Iterable[str] = ()) -> list[dict[str, Any]]:
    return [obj for _, obj in iter_jsonl(path, required)]


def partial_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".partial")


class ResumableJsonl:
    """An append-only JSONL output that survives kill -9.

    Rows are appended to `OUT.partial` and flushed per row. `done_keys` holds the key of
    every complete row already there, so a rerun skips them. `finish()` renames to `OUT`.
    """

    def __init__(self, path: str | Path, key: str = "id") -> None:
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self.key = key
        self.done_keys: set[str] = set()
        self.rows_written = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._recover()
        self._fh = self.partial.open("a", encoding="utf-8")

    def _recover(self) -> None:
        if not self.partial.exists():
            return
        data = self.partial.read_bytes()
        keep = data.rfind(b"\n") + 1  # a torn last line (killed mid-write) is dropped
        if keep != len(data):
            with self.partial.open("r+b") as fh:
                fh.truncate(keep)
        for line in data[:keep].decode("utf-8").splitlines():
            if line.strip():
                self.done_keys.add(str(json.loads(line)[self.key]))
                self.rows_written += 1

    @property
    def resumed(self) -> int:
        return len(self.done_keys)

    def write(self, row: dict[str, Any]) -> None:
        self._fh.write(dumps(row) + "\n")
        self._fh.flush()
        self.done_keys.add(str(row[self.key]))
        self.rows_written += 1

    def rows(self) -> Iterator[dict[str, Any]]:
        """Rows written so far (including recovered ones), in file order."""
        self._fh.flush()
        with self.partial.open("r", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)

    def finish(self) -> Path:
        self._fh.close()
        os.replace(self.partial, self.path)
        return self.path

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> ResumableJsonl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
