"""The data stage in `kodeio run`: AI Hub pairs (RUN/data/pairs.jsonl) and the training mix
(RUN/data/mix) from the verified traces, the pairs and the recipe's other sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kodeio.errors import ConfigError
from kodeio.wiring import Recipe, StageWiring, count_lines, find_path


class DataWiring(StageWiring):
    name = "data"
    sections = ("data_aihub", "data_mix")

    def configs(self, recipe: Recipe) -> dict[str, BaseModel]:
        from kodeio.data.mix import MixConfig
        from kodeio.data.pairs import AihubConfig

        run = recipe.run
        out: dict[str, BaseModel] = {}
        aihub = recipe.section("data_aihub")
        if aihub.get("inputs"):
            aihub["inputs"] = [str(find_path(p)) for p in aihub["inputs"]]
            aihub["output"] = str(run / "data" / "pairs.jsonl")
            out["data_aihub"] = recipe.validate(AihubConfig, aihub, "data_aihub")
        mix = recipe.section("data_mix")
        mix.setdefault("seed", recipe.get("seed", 0))
        mix["output"] = str(run / "data" / "mix")
        sources = []
        given = mix.get("sources") or []
        if not isinstance(given, list) or not all(isinstance(s, dict) for s in given):
            # e.g. `--set data_mix.sources.0.x=...`: --set addresses mappings, not list items
            raise ConfigError(
                f"{recipe.source}: key 'data_mix.sources' must be a list of source mappings "
                f"(got {type(given).__name__}); set the whole list with --set "
                "'data_mix.sources=[{...}, ...]'"
            )
        for src in given:
            kind = src.get("kind")
            if kind == "traces" and not src.get("path"):
                src["path"] = str(run / "synth" / "sft.jsonl")
                src.setdefault("traces_file", str(run / "synth" / "traces.jsonl"))
            elif kind == "pairs" and not src.get("path"):
                src["path"] = str(run / "data" / "pairs.jsonl")
            elif kind in ("traces", "pairs", "messages"):
                src["path"] = str(find_path(src["path"]))
            elif kind == "hf" and isinstance(src.get("dataset"), dict):
                ds = src["dataset"]
                if ds.get("path") and find_path(ds["path"]).exists():
                    ds["path"] = str(find_path(ds["path"]))
            made_here = aihub.get("inputs") and src.get("path") == aihub.get("output")
            if (
                recipe.live
                and kind in ("traces", "pairs")
                and not made_here  # written by data_aihub in this same stage
                and count_lines(Path(src["path"])) == 0
            ):
                # A 135M model can verify nothing; the mix then trains on the other sources.
                recipe.notes.append(f"data_mix: source '{src.get('name')}' is empty; left out")
                continue
            sources.append(src)
        mix["sources"] = sources
        # The io stage's clean step lists the seeds it removed; the card counts them.
        removed = run / "io" / "seeds.clean.removed.jsonl"
        card = mix.setdefault("card", {})
        if recipe.live and removed.is_file() and "removed" not in card:
            card["removed"] = [str(removed)]
        length = mix.get("length") or {}
        if length.get("tokenizer") == "model":  # count tokens with the training model's tokenizer
            length["tokenizer"] = recipe.model(recipe.section("train"))
        out["data_mix"] = recipe.validate(MixConfig, mix, "data_mix")
        return out

    def outputs(self, run: Path) -> list[Path]:
        return [run / "data" / "mix" / "dataset_dict.json"]

    def execute(self, configs: dict[str, Any]) -> None:
        from kodeio.data.mix import run_stage as run_mix

        if "data_aihub" in configs:
            from kodeio.data.pairs import run_stage as run_aihub

            run_aihub(configs["data_aihub"])
        run_mix(configs["data_mix"])

    def counts(self, run: Path) -> dict[str, Any]:
        stats = json.loads((run / "data" / "mix" / "mix_stats.json").read_text(encoding="utf-8"))
        return {
            "aihub_pairs": count_lines(run / "data" / "pairs.jsonl"),
            "train": stats["splits"]["train"]["count"],
            "eval": stats["splits"]["eval"]["count"],
            "sources": {s["name"]: s["rows"] for s in stats["sources"]},
        }

    def result(self, counts: dict[str, Any]) -> str:
        return f"mix: {counts['train']} train / {counts['eval']} eval rows"
