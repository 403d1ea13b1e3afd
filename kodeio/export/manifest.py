"""The end of an export: `manifest.json` (every file with its size, hash and parity), the
model card, and the move of the staged parts into the output directory."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kodeio.export.plan import STAMP, Plan
from kodeio.export.quants import LOSSLESS_TYPES
from kodeio.files import atomic_write_text


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _file_kind(rel: str) -> str:
    """A part's folder (`adapter`, `merged`), else what the top-level file is."""
    if "/" in rel:
        return rel.split("/", 1)[0]
    if rel.endswith(".gguf"):
        return "gguf"
    if rel.endswith(".Modelfile"):
        return "modelfile"
    return "other"


def build_manifest(
    plan: Plan,
    staging: Path,
    ggufs: dict[str, Path],
    parity: dict[str, dict[str, Any]],
    merge_info: dict[str, Any] | None,
    pre_tokenizer: str | None,
) -> dict[str, Any]:
    from kodeio import __version__
    from kodeio.models import KNOWN_MODELS

    files = []
    for path in sorted(staging.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(staging).as_posix()
        if rel in (STAMP, "merge.json") or rel.startswith("logs/"):
            continue
        entry: dict[str, Any] = {
            "path": rel,
            "kind": _file_kind(rel),
            "bytes": path.stat().st_size,
            "sha256": sha256_file(path),
        }
        quant = next((q for q, p in ggufs.items() if p == path), None)
        if quant:
            entry["quant"] = quant
            summary = parity.get(quant)
            entry["parity"] = (
                {k: v for k, v in summary.items() if k != "details"} if summary else None
            )
        files.append(entry)
    known = KNOWN_MODELS.get(plan.base_arg.lower())
    base_id = (
        known.hub_id
        if known
        else plan.base_arg
        if re.fullmatch(r"[\w.-]+/[\w.-]+", plan.base_arg) and not Path(plan.base_arg).exists()
        else None
    )
    llama_source = (
        "user"
        if (plan.cfg.llama_cpp or os.environ.get("KODEIO_LLAMA_CPP"))
        else "llama-cpp-python sdist"
    )
    return {
        "kodeio_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "name": plan.name,
        "targets": list(plan.cfg.targets),
        "run_dir": str(plan.run_dir) if plan.run_dir else None,
        "adapter": str(plan.adapter_dir),
        "base_model": plan.base_arg,
        "base_model_id": base_id,
        "base_dir": str(plan.base_dir),
        "merge_base": _merge_base(plan),
        "merge": merge_info,
        "gguf": {
            "quants": list(ggufs),
            "llama_cpp": str(plan.llama_dir) if plan.llama_dir else None,
            "llama_cpp_source": llama_source if plan.llama_dir else None,
            "pre_tokenizer": pre_tokenizer,
        }
        if ggufs
        else None,
        "verify": {
            "enabled": plan.verify,
            "tokens": plan.cfg.verify_tokens,
            "strict_types": list(LOSSLESS_TYPES),
        },
        "parity": parity,
        "timings_s": plan.timings,
        "files": files,
    }


def _merge_base(plan: Plan) -> dict[str, Any] | None:
    """What the merge read: which base, and whether its weights were dequantized 4-bit."""
    mb = plan.merge_base
    if mb is None:
        return None
    return {
        "model": mb.arg,
        "dir": str(mb.dir),
        "precision": "4-bit, dequantized" if mb.dequantized_4bit else "16-bit",
        "dequantized_4bit": mb.dequantized_4bit,
        "trained_on": mb.training_model,
    }


def publish(plan: Plan, staging: Path, manifest: dict[str, Any]) -> None:
    """Card + manifest into staging, then move each part into OUT (replacing old ones)."""
    from kodeio.export.card import render_card

    (staging / "README.md").write_text(
        render_card(manifest, plan.run_dir, plan.cfg.push_to_hub), encoding="utf-8"
    )
    manifest["files"].append(
        {
            "path": "README.md",
            "kind": "card",
            "bytes": (staging / "README.md").stat().st_size,
            "sha256": sha256_file(staging / "README.md"),
        }
    )
    atomic_write_text(
        staging / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    )
    (staging / STAMP).unlink(missing_ok=True)
    (staging / "merge.json").unlink(missing_ok=True)
    out = plan.out_dir
    out.mkdir(parents=True, exist_ok=True)
    # The old manifest goes first: until the new one lands, OUT does not claim to be complete.
    (out / "manifest.json").unlink(missing_ok=True)
    for item in sorted(staging.iterdir(), key=lambda p: p.name == "manifest.json"):
        target = out / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        os.replace(item, target)
    staging.rmdir()
