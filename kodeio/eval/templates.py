"""Eval prompt templates: text files under `kodeio/templates/eval/` ($name placeholders).

Lines starting with `#` at the top of a file are comments. `template_tag()` names the
exact wording (VERSION plus a hash of every file), and is part of each request's key, so
an edited template never reuses cached answers.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from string import Template
from typing import Any

TEMPLATE_DIR = "templates/eval"


def _root() -> Any:
    return resources.files("kodeio").joinpath(TEMPLATE_DIR)


@cache
def load(name: str) -> Template:
    lines = _root().joinpath(name).read_text(encoding="utf-8").splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return Template("\n".join(lines).strip("\n"))


def render(name: str, **values: str) -> str:
    return load(name).substitute(**values)


@cache
def template_tag() -> str:
    root = _root()
    digest = hashlib.sha256()
    for node in sorted(root.iterdir(), key=lambda n: n.name):
        if node.name.endswith(".txt"):
            digest.update(node.name.encode() + b"\0" + node.read_bytes() + b"\0")
    version = root.joinpath("VERSION").read_text(encoding="utf-8").strip()
    return f"eval-v{version}-{digest.hexdigest()[:10]}"
