"""The quickstart seed corpus: small functions written for kodeio, with input generators.

`quickstart.jsonl` (package data, built by `python -m kodeio.synth.io.seeds.build`) holds one
kodeio seed per line: `id`, `code`, `entry`, `input_generator`, `description`, `category`.
The readable sources live in `src/`, one module per reasoning pattern.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

QUICKSTART_NAME = "quickstart.jsonl"


def quickstart_path() -> Path:
    """Path of the shipped quickstart corpus (a real file inside the installed package)."""
    return Path(str(resources.files(__package__).joinpath(QUICKSTART_NAME)))
