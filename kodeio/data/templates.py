"""Prompt templates of the data area, loaded from `kodeio/templates/data/*.txt`.

Templates are `string.Template` text (`$name` placeholders), so user data containing braces
or dollar signs is inserted verbatim. Leading lines starting with "# " are comments. A
phrasing file holds several alternatives separated by a line with only "---".
"""

from __future__ import annotations

import functools
from importlib import resources
from string import Template

from kodeio.errors import ConfigError

PACKAGE_DIR = "templates/data"


def _strip_header_comments(text: str) -> str:
    lines = text.splitlines()
    while lines and (lines[0].startswith("# ") or lines[0] == "#"):
        lines.pop(0)
    return "\n".join(lines)


@functools.cache
def load_text(name: str) -> str:
    """The body of `kodeio/templates/data/<name>` without its header comments."""
    path = resources.files("kodeio").joinpath(f"{PACKAGE_DIR}/{name}")
    if not path.is_file():
        raise ConfigError(f"template {PACKAGE_DIR}/{name} not found in the kodeio package")
    return _strip_header_comments(path.read_text(encoding="utf-8")).strip("\n")


@functools.cache
def load_phrasings(name: str) -> tuple[Template, ...]:
    """All alternatives of a phrasing file, in file order."""
    blocks = [b.strip("\n") for b in load_text(name).split("\n---\n")]
    blocks = [b for b in blocks if b.strip()]
    if not blocks:
        raise ConfigError(f"template {PACKAGE_DIR}/{name} has no phrasings")
    return tuple(Template(b) for b in blocks)


def render(name: str, **values: str) -> str:
    """Fill one template; a placeholder with no value is a bug, so it raises."""
    return Template(load_text(name)).substitute(**values).strip("\n")
