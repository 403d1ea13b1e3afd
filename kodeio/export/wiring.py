"""The export stage in `kodeio run`: RUN/train -> RUN/export (adapter, merged weights, GGUFs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kodeio.wiring import Recipe, StageWiring


class ExportWiring(StageWiring):
    name = "export"
    sections = ("export",)

    def configs(self, recipe: Recipe) -> dict[str, BaseModel]:
        from kodeio.export.config import ExportConfig

        sec = recipe.section("export")
        sec["run_dir"] = str(recipe.run / "train")
        sec["output"] = str(recipe.run / "export")
        sec.setdefault("name", recipe.get("name") or None)
        if sec.get("base") or recipe.get("model"):
            sec["base"] = recipe.model(sec, "base")
        return {"export": recipe.validate(ExportConfig, sec, "export")}

    def outputs(self, run: Path) -> list[Path]:
        return [run / "export" / "manifest.json"]

    def execute(self, configs: dict[str, Any]) -> None:
        from kodeio.export.stage import run_stage as run_export

        run_export(configs["export"])

    def counts(self, run: Path) -> dict[str, Any]:
        manifest = json.loads((run / "export" / "manifest.json").read_text(encoding="utf-8"))
        ggufs = sorted(str(p) for p in (run / "export").glob("*.gguf"))
        adapter = run / "export" / "adapter"
        return {
            "ggufs": ggufs,
            "adapter": str(adapter if adapter.is_dir() else run / "train" / "adapter"),
            "parity": manifest.get("parity") if isinstance(manifest, dict) else None,
        }

    def result(self, counts: dict[str, Any]) -> str:
        return ", ".join(Path(p).name for p in counts.get("ggufs", []))

    def footer(self, run: Path, counts: dict[str, Any]) -> list[str]:
        """Where the adapter and the GGUFs are, and how to chat with one."""
        if not counts:
            return []
        lines = [f"adapter: {counts.get('adapter')}"]
        ggufs = counts.get("ggufs") or []
        lines += [f"GGUF:    {path}" for path in ggufs]
        if ggufs:
            pick = next((g for g in ggufs if "q8_0" in g), ggufs[-1])
            lines.append(f"chat:    [bold]kodeio chat {pick}[/]")
        return lines
