"""Every `kodeio[...]` extra named in the README, docs, configs, scripts and messages exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTRA_IN_TEXT = re.compile(r"kodeio\[([^\]]+)\]")
EXTRA_IN_SCRIPT = re.compile(r"""-e ["']?\.\[([^\]]+)\]""")  # pip install -e ".[train,dev]"


def extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["optional-dependencies"]


def named_extras() -> dict[str, set[str]]:
    files = [
        ROOT / "README.md",
        *(ROOT / "docs").rglob("*.md"),
        *(ROOT / "configs").rglob("*.yaml"),
        *(ROOT / "scripts").glob("*.sh"),
        *(ROOT / "kodeio").rglob("*.py"),
    ]
    found: dict[str, set[str]] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        for pattern in (EXTRA_IN_TEXT, EXTRA_IN_SCRIPT):
            for group in pattern.findall(text):
                for name in group.split(","):
                    found.setdefault(name.strip(), set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_named_extra_exists() -> None:
    named = named_extras()
    assert {"gpu", "vllm", "train"} <= set(named)  # the scan sees the GPU install lines
    missing = {name: sorted(where) for name, where in named.items() if name not in extras()}
    assert missing == {}


def test_gpu_extra_covers_the_gpu_recipe() -> None:
    table = extras()
    inner = {e for req in table["gpu"] for e in EXTRA_IN_TEXT.findall(req)}
    assert inner and all(name in table for item in inner for name in item.split(","))
    (vllm,) = table["vllm"]
    assert re.fullmatch(r"vllm>=[\d.]+,<[\d.]+", vllm), vllm  # a tested range, not open-ended
    assert any(req.startswith("bitsandbytes") for req in table["train"])
