"""Per-item results of an eval: a ResumableJsonl that is reused across runs."""

from __future__ import annotations

import os
from pathlib import Path

from kodeio.files import ResumableJsonl, partial_path


def reopen_resumable(path: Path, key: str = "key") -> ResumableJsonl:
    """A ResumableJsonl that also reuses a finished file.

    Rows of a killed run are in `FILE.partial`; rows of a finished run are in `FILE`,
    which is moved back to `.partial` and appended to, so rerunning a complete eval (or one
    with more items) redoes nothing that is already there. `finish()` renames it back.
    """
    path = Path(path)
    if path.exists() and not partial_path(path).exists():
        os.replace(path, partial_path(path))
    return ResumableJsonl(path, key=key)
