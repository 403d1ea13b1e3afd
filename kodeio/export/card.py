"""The model card (README.md) for an export: what it is, how it was made, how to run it."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import yaml

_SECRET_KEY = re.compile(r"token|secret|password|api_?key", re.IGNORECASE)


def scrub(value: Any) -> Any:
    """Drop secret-looking keys from a config tree before it goes into a card."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if not _SECRET_KEY.search(str(k))}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def read_training_config(run_dir: Path | None) -> dict[str, Any]:
    if run_dir is None or not (run_dir / "config.yaml").is_file():
        return {}
    try:
        data = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return {}
    return scrub(data) if isinstance(data, dict) else {}


def find_datasets(config: dict[str, Any]) -> list[str]:
    """Dataset names/paths named anywhere in the training config (keys like data*, dataset*)."""
    found: list[str] = []

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and re.search(r"data|dataset|train_file", key, re.IGNORECASE):
            found.append(node)

    walk(config)
    return list(dict.fromkeys(found))


def _eval_files(run_dir: Path) -> list[Path]:
    # The training dir is RUN/train in a pipeline run, whose evals live in RUN/eval/.
    files: list[Path] = []
    for root in dict.fromkeys([run_dir, run_dir.parent]):
        if (root / "eval.json").is_file():
            files.append(root / "eval.json")
        if (root / "eval").is_dir():
            files += sorted((root / "eval").rglob("*.json"))[:50]
    return list(dict.fromkeys(files))


def read_eval_metrics(run_dir: Path | None, limit: int = 40) -> list[tuple[str, Any]]:
    """Numbers from the run's eval reports (`kodeio eval` report.json files and other JSON)."""
    if run_dir is None:
        return []
    rows: list[tuple[str, Any]] = []

    def walk(node: Any, prefix: str, depth: int) -> None:
        if len(rows) >= limit or depth > 3 or isinstance(node, bool):
            return
        if isinstance(node, int | float):
            rows.append((prefix, round(node, 4) if isinstance(node, float) else node))
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k), depth + 1)

    for path in _eval_files(run_dir):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            continue
        if not isinstance(data, dict):
            continue
        if isinstance(data.get("metrics"), dict) and "kind" in data:
            model = data.get("model") or {}
            who = model.get("name") or model.get("label") if isinstance(model, dict) else None
            label = f"{data.get('name') or path.parent.name}" + (f" ({who})" if who else "")
            walk(data["metrics"], label, 1)
        elif path.name not in ("report.json",) and not path.name.endswith(".report.json"):
            walk(data, path.stem, 0)
    return rows[:limit]


def render_card(manifest: dict[str, Any], run_dir: Path | None, repo_id: str | None) -> str:
    training = read_training_config(run_dir)
    order = {q: i for i, q in enumerate((manifest.get("gguf") or {}).get("quants", []))}
    ggufs = sorted(
        (f for f in manifest["files"] if f["kind"] == "gguf"),
        key=lambda f: order.get(f.get("quant"), 99),
    )
    folders = []
    for kind in ("adapter", "merged"):
        parts = [f for f in manifest["files"] if f["kind"] == kind]
        if parts:
            weights = [f for f in parts if f["path"].endswith((".safetensors", ".bin"))]
            folders.append(
                {
                    "path": f"{kind}/",
                    "kind": kind,
                    "bytes": sum(f["bytes"] for f in parts),
                    "shards": len(weights),
                }
            )
    env = jinja2.Environment(
        keep_trailing_newline=True, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )
    template = (
        resources.files("kodeio")
        .joinpath("templates/export/model_card.md.jinja")
        .read_text(encoding="utf-8")
    )
    return env.from_string(template).render(
        m=manifest,
        repo_id=repo_id or f"YOUR_NAME/{manifest['name']}",
        base_model=manifest.get("base_model_id") or manifest["base_model"],
        datasets=find_datasets(training),
        training_yaml=yaml.safe_dump(training, sort_keys=False, allow_unicode=True).strip()
        if training
        else "",
        metrics=read_eval_metrics(run_dir),
        ggufs=ggufs,
        folders=folders,
        has_merged=any(f["kind"] == "merged" for f in manifest["files"]),
        has_adapter=any(f["kind"] == "adapter" for f in manifest["files"]),
        gguf_default=next(
            (g for g in ggufs if g.get("quant") == "q4_k_m"), ggufs[0] if ggufs else None
        ),
        mb=lambda n: f"{n / 1e6:.1f} MB",
    )
