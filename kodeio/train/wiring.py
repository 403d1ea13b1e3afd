"""The train stage in `kodeio run`: RUN/data/mix -> the LoRA adapter in RUN/train/adapter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kodeio.wiring import Recipe, StageWiring


def resumable(cfg: Any) -> Any:
    """A TrainConfig as the pipeline runs it: an interrupted run (checkpoints left)
    continues; a finished run whose stage was not recorded as done trains again."""
    out = cfg.resolved_output_dir
    if (out / "checkpoints").is_dir() and any((out / "checkpoints").iterdir()):
        return cfg.model_copy(update={"resume": True})
    if (out / "adapter").exists():
        shutil.rmtree(out / "adapter")
    return cfg


class TrainWiring(StageWiring):
    name = "train"
    sections = ("train",)

    def configs(self, recipe: Recipe) -> dict[str, BaseModel]:
        from kodeio.train.config import TrainConfig

        sec = recipe.section("train")
        sec["data"] = [str(recipe.run / "data" / "mix")]
        sec["output_dir"] = str(recipe.run / "train")
        sec.pop("run_dir", None)
        if sec.get("model") or recipe.get("model") or not sec.get("preset"):
            sec["model"] = recipe.model(sec)
        sec.setdefault("seed", recipe.get("seed", 0))
        return {"train": recipe.validate(TrainConfig, sec, "train")}

    def outputs(self, run: Path) -> list[Path]:
        return [run / "train" / "adapter" / "adapter_config.json"]

    def execute(self, configs: dict[str, Any]) -> None:
        from kodeio.train.stage import run_stage as run_train

        run_train(resumable(configs["train"]))

    def counts(self, run: Path) -> dict[str, Any]:
        path = run / "train" / "train_summary.json"
        summary = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        keys = ("backend", "device", "global_step", "train_loss_first", "train_loss_last")
        return {k: summary.get(k) for k in keys if k in summary}

    def result(self, counts: dict[str, Any]) -> str:
        return f"{counts.get('global_step')} steps, loss {counts.get('train_loss_last')}"
