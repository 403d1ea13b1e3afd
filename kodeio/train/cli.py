"""`kodeio train`: LoRA SFT or GRPO (Unsloth, falling back to transformers + peft + TRL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kodeio.cli.options import ConfigOption, SetOption


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        config: ConfigOption = None,
        set_: SetOption = None,
        model: Annotated[
            str | None, typer.Option("--model", help="Base model: hub id or local HF dir.")
        ] = None,
        data: Annotated[
            list[str] | None,
            typer.Option(
                "--data",
                help="Dataset dir (kodeio data mix / save_to_disk) or JSONL of {messages}; repeatable.",
            ),
        ] = None,
        output_dir: Annotated[
            Path | None, typer.Option("--output-dir", "-o", help="Run directory.")
        ] = None,
        max_steps: Annotated[
            int | None, typer.Option("--max-steps", help="Optimizer steps (overrides --epochs).")
        ] = None,
        epochs: Annotated[float | None, typer.Option("--epochs", help="Training epochs.")] = None,
        learning_rate: Annotated[
            float | None, typer.Option("--learning-rate", "--lr", help="Peak learning rate.")
        ] = None,
        lora_r: Annotated[int | None, typer.Option("--lora-r", help="LoRA rank.")] = None,
        max_seq_length: Annotated[
            int | None,
            typer.Option(
                "--max-seq-length", help="Cap on training length; the data's p99 is used below it."
            ),
        ] = None,
        preset: Annotated[
            str | None, typer.Option("--preset", help="Memory preset, e.g. r1-32b-24gb, cpu-smoke.")
        ] = None,
        backend: Annotated[
            str | None, typer.Option("--backend", help="auto | unsloth | transformers.")
        ] = None,
        method: Annotated[
            str | None,
            typer.Option("--method", help="sft (default) or grpo: RL on execution rewards."),
        ] = None,
        resume: Annotated[
            bool,
            typer.Option("--resume", help="Continue from the latest checkpoint in the output dir."),
        ] = False,
    ) -> None:
        """LoRA SFT of a chat model on `messages` data, keeping the <think> reasoning in the loss."""
        from kodeio.config import load_config
        from kodeio.train.config import TrainConfig

        cfg = load_config(
            TrainConfig,
            config,
            set_,
            values={
                "preset": preset,
                "model": model,
                "data": list(data) if data else None,
                "output_dir": str(output_dir) if output_dir else None,
                "max_steps": max_steps,
                "epochs": epochs,
                "learning_rate": learning_rate,
                "lora_r": lora_r,
                "max_seq_length": max_seq_length,
                "backend": backend,
                "resume": True if resume else None,
                "method": method,
            },
            section="train",
        )
        if cfg.method == "grpo":
            from kodeio.train.grpo import run_grpo

            out = run_grpo(cfg)
        else:
            from kodeio.train.stage import run_stage

            out = run_stage(cfg)
        typer.echo(str(out / "adapter"))
