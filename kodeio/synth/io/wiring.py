"""The io stage in `kodeio run`: seeds -> RUN/io/pairs.jsonl (and its rejects)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kodeio.wiring import Recipe, StageWiring, count_lines, find_path


class IoWiring(StageWiring):
    name = "io"
    sections = ("io",)

    def configs(self, recipe: Recipe) -> dict[str, BaseModel]:
        from kodeio.synth.io.config import IoConfig

        sec = recipe.section("io")
        if not sec.get("seeds") and not sec.get("hf_dataset"):
            from kodeio.synth.io.seeds import quickstart_path

            sec["seeds"] = [str(quickstart_path())]
        sec["seeds"] = [str(find_path(p)) for p in sec.get("seeds") or []]
        sec["output"] = str(recipe.run / "io" / "pairs.jsonl")
        sec.setdefault("seed", recipe.get("seed", 0))
        return {"io": recipe.validate(IoConfig, sec, "io")}

    def outputs(self, run: Path) -> list[Path]:
        return [run / "io" / "pairs.jsonl"]

    def execute(self, configs: dict[str, Any]) -> None:
        from kodeio.synth.io.report import print_summary
        from kodeio.synth.io.stage import run_io

        print_summary(run_io(configs["io"]))

    def counts(self, run: Path) -> dict[str, Any]:
        return {
            "pairs": count_lines(run / "io" / "pairs.jsonl"),
            "rejects": count_lines(run / "io" / "pairs.rejects.jsonl"),
        }

    def result(self, counts: dict[str, Any]) -> str:
        return f"{counts['pairs']} pairs ({counts['rejects']} rejected)"
