"""Top-level `kodeio chat` and `kodeio report`: try a model at once, look at a run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kodeio.cli.options import ConfigOption, SetOption


def chat(
    model: Annotated[
        str,
        typer.Argument(
            help="A .gguf file (llama.cpp), a Hugging Face model directory, or a named model "
            "such as smollm2-135m."
        ),
    ],
    adapter: Annotated[
        Path | None,
        typer.Option(help="A PEFT LoRA adapter directory (HF models) or a GGUF LoRA file."),
    ] = None,
    system: Annotated[
        str | None, typer.Option(help="System prompt (R1 models: leave unset).")
    ] = None,
    prompt: Annotated[
        str | None,
        typer.Option(help="Answer this one message and exit (no interactive loop)."),
    ] = None,
    max_tokens: Annotated[int, typer.Option(min=1, help="Most new tokens per reply.")] = 1024,
    temperature: Annotated[float, typer.Option(min=0.0, help="0 for greedy decoding.")] = 0.6,
    top_p: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.95,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    ctx: Annotated[int, typer.Option(min=256, help="Context window (llama.cpp).")] = 4096,
    threads: Annotated[int | None, typer.Option(min=1, help="CPU threads.")] = None,
) -> None:
    """Chat with a model in the terminal, streaming; <think> reasoning is shown dimmed.

    Reads one message per line from stdin when it is not a terminal; --prompt answers one
    message and exits.
    """
    from kodeio.chat import ChatSession, ChatSettings, open_engine

    settings = ChatSettings(
        system=system,
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        seed=seed,
        n_ctx=ctx,
        threads=threads,
    )
    engine = open_engine(model, settings, adapter)
    try:
        session = ChatSession(engine, settings)
        if prompt is not None:
            session.turn(prompt)
        else:
            session.repl(sys.stdin)
    finally:
        engine.close()


def report(
    run_dir: Annotated[
        Path | None,
        typer.Argument(help="A run directory written by `kodeio run` (or run_dir in --config)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="HTML file to write (default: RUN_DIR/report.html)."),
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option(min=1, help="Traces embedded per status (verified_first, ...); default 60."),
    ] = None,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Write one self-contained HTML page: stage counts, yield, loss, evals, trace browser."""
    from kodeio.config import load_config
    from kodeio.report import ReportConfig, run_stage

    values = {"run_dir": run_dir, "output": output, "samples_per_status": samples}
    stage = load_config(ReportConfig, config, set_, values, section="report")
    typer.echo(str(run_stage(stage)))


def register(app: typer.Typer) -> None:
    app.command("chat")(chat)
    app.command("report")(report)
