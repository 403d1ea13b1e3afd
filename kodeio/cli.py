"""The `kodeio` command line: a thin layer that parses flags and calls one stage function.

Each area registers its commands from `kodeio/<area>/cli.py` (a `register(app)` function).
Those modules import only typer and pydantic configs, so `kodeio sandbox --help` stays fast;
the heavy work is imported inside each command.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer

from kodeio import __version__
from kodeio.errors import KodeioError

# Order is the order shown in `kodeio --help`.
COMMAND_MODULES = (
    "kodeio.pipeline_cli",
    "kodeio.sandbox.cli",
    "kodeio.synth.io.cli",
    "kodeio.synth.verify.cli",
    "kodeio.synth.cli",
    "kodeio.merge_cli",
    "kodeio.data.cli",
    "kodeio.train.cli",
    "kodeio.eval.cli",
    "kodeio.export.cli",
    "kodeio.models_cli",
    "kodeio.ui_cli",
)

app = typer.Typer(
    name="kodeio",
    help=(
        "Execution-verified reasoning data (CodeI/O, CodeI/O++), Korean corpora, "
        "Unsloth LoRA fine-tuning, evaluation and GGUF export.\n\n"
        "Every stage takes --config FILE (a YAML recipe or stage config) and --set key=value."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kodeio {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """kodeio command line."""


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):  # that area has no commands in this build
                continue
            raise
        module.register(app)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors become one red line and a non-zero exit, never a traceback."""
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="kodeio", standalone_mode=False)
    except KodeioError as exc:
        from kodeio.progress import console

        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
