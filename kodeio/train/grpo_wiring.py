"""The optional grpo stage in `kodeio run`: GRPO on execution rewards, continuing the SFT
adapter (RUN/train/adapter) -> RUN/grpo/adapter.

The recipe's `grpo:` section runs it only with `enabled: true`. Its prompts are the I/O
pairs synthesis wrote traces for (`RUN/synth/traces.jsonl`), in synthesis's modes and
reasoning language, written to RUN/grpo/rl by `kodeio synth export --format rl`'s code: the
pairs past `synth.max_pairs` stay held out for the eval. `pass_rate: [lo, hi]` keeps only
the (pair, mode)s whose synthesis pass rate lies in the band (needs
`synth.sampling.n_samples > 1`).

The rest of the section is `train` keys (max_steps, learning_rate, batch sizes, save_steps,
backend, ...) and `train.grpo` keys (num_generations, max_completion_length, beta,
use_vllm, reward, ...), flat. The model, its loading (preset, 4-bit, dtype, sequence
length, backend) and the LoRA shape come from the `train` section: the policy is the SFT
model, its adapter loaded trainable (`train.init_adapter`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from kodeio.config import StageConfig
from kodeio.errors import ConfigError, InputError
from kodeio.wiring import Recipe, StageWiring

# `train` keys the GRPO run inherits: the same base model, loaded the same way, same LoRA.
FROM_TRAIN = (
    "preset",
    "model",
    "backend",
    "load_in_4bit",
    "dtype",
    "max_seq_length",
    "gradient_checkpointing",
    "optim",
    "chat_template",
    "report_to",
)
STAGE_KEYS = ("enabled", "pass_rate")


class GrpoStageConfig(StageConfig):
    """The grpo stage's own keys and the files it reads and writes (all under run_dir)."""

    enabled: bool = Field(False, description="run the stage (off: `kodeio run` passes over it)")
    pass_rate: tuple[float, float] | None = Field(
        None, description="[lo, hi]: only (pair, mode)s whose synthesis pass rate is inside"
    )
    pairs: Path = Field(description="RUN/io/pairs.jsonl")
    traces: Path = Field(description="RUN/synth/traces.jsonl: which pairs synthesis used")
    rl_data: Path = Field(description="RUN/grpo/rl: the RL prompts written for the run")
    modes: list[str] = Field(default_factory=lambda: ["output", "input"])
    language: str = "en"

    @field_validator("pass_rate")
    @classmethod
    def _band(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not 0.0 <= value[0] <= value[1] <= 1.0:
            raise ValueError("expected [lo, hi] with 0 <= lo <= hi <= 1")
        return value


class GrpoWiring(StageWiring):
    name = "grpo"
    sections = ("grpo",)
    optional = True

    def configs(self, recipe: Recipe) -> dict[str, BaseModel]:
        from kodeio.train.config import TrainConfig
        from kodeio.train.grpo_config import GrpoOptions

        run = recipe.run
        sec = recipe.section("grpo")
        train = recipe.section("train")
        synth = recipe.section("synth")
        stage = {k: sec.pop(k) for k in STAGE_KEYS if k in sec}
        stage.update(
            pairs=str(run / "io" / "pairs.jsonl"),
            traces=str(run / "synth" / "traces.jsonl"),
            rl_data=str(run / "grpo" / "rl"),
            modes=synth.get("modes") or ["output", "input"],
            language=synth.get("reasoning_language") or "en",
        )
        own = recipe.validate(GrpoStageConfig, stage, "grpo")
        samples = ((synth.get("sampling") or {}).get("n_samples")) or 1
        if own.enabled and own.pass_rate is not None and int(samples) <= 1:
            raise ConfigError(
                f"{recipe.source}: grpo.pass_rate needs synthesis pass rates; set "
                "synth.sampling.n_samples above 1 (e.g. 8) or drop grpo.pass_rate"
            )
        options = {k: sec.pop(k) for k in list(sec) if k in GrpoOptions.model_fields}
        cfg = {k: train[k] for k in FROM_TRAIN if k in train}
        cfg.update(sec)
        cfg.update(
            method="grpo",
            grpo=options,
            data=[str(run / "grpo" / "rl")],
            output_dir=str(run / "grpo"),
            init_adapter=str(run / "train" / "adapter"),
            samples=False,  # samples.md is an SFT report
        )
        cfg.pop("run_dir", None)
        if cfg.get("model") or recipe.get("model") or not cfg.get("preset"):
            cfg["model"] = recipe.model(cfg)
        cfg.setdefault("seed", recipe.get("seed", 0))
        return {"rl": own, "grpo": recipe.validate(TrainConfig, cfg, "grpo")}

    def outputs(self, run: Path) -> list[Path]:
        grpo = run / "grpo"
        return [grpo / "adapter" / "adapter_config.json", grpo / "train_summary.json"]

    def execute(self, configs: dict[str, Any]) -> None:
        from kodeio.progress import console
        from kodeio.synth.rl_data import export_rl, synthesized
        from kodeio.train.grpo import run_grpo
        from kodeio.train.wiring import resumable

        rl, cfg = configs["rl"], configs["grpo"]
        only = synthesized(rl.traces, rl.pass_rate)
        n, path = export_rl(rl.pairs, rl.rl_data, rl.modes, rl.language, only)
        band = f" with a pass rate in {list(rl.pass_rate)}" if rl.pass_rate else ""
        if n == 0:
            raise InputError(
                f"{rl.traces}: no (pair, mode) to train on{band}; widen grpo.pass_rate or "
                "synthesize more pairs"
            )
        console.print(f"grpo: {n} RL prompts ({rl.language}){band} -> {path}", highlight=False)
        run_grpo(resumable(cfg))

    def counts(self, run: Path) -> dict[str, Any]:
        path = run / "grpo" / "train_summary.json"
        summary = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        keys = ("backend", "device", "global_step", "prompts", "num_generations",
                "reward_first", "reward_last", "verified_rate_first", "verified_rate_last")  # fmt: skip
        return {k: summary.get(k) for k in keys if k in summary}

    def result(self, counts: dict[str, Any]) -> str:
        def num(key: str) -> str:
            value = counts.get(key)
            return f"{value:.3f}" if isinstance(value, int | float) else "-"

        return (
            f"{counts.get('global_step')} steps on {counts.get('prompts')} prompts, "
            f"reward {num('reward_first')} → {num('reward_last')}"
        )
