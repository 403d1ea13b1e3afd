"""The `kodeio` command line: a thin layer that parses flags and calls one stage function.

Each area registers its commands from `kodeio/<area>/cli.py` (a `register(app)` function);
the commands of the root modules (`kodeio run`, `models`, `chat`, `report`) live next to
this file, with the options every command shares (`kodeio.cli.options`). Those modules
import only typer and pydantic configs, so `kodeio sandbox --help` stays fast; the heavy
work is imported inside each command.

The command modules are imported when the app is first built (`get_app()`), not when this
package is: they import `kodeio.cli.options`, so importing one of them first must not
register the others half-way. Every module in `COMMAND_MODULES` is part of every install
(all of them import only the core dependencies), so one that cannot be imported is a bug
and stops the CLI with its name, rather than dropping that area from `kodeio --help`.
"""

from __future__ import annotations

import functools
import importlib
import sys

import typer
from typer.core import TyperOption

try:  # typer >= 0.2x parses with its own copy of click; its errors are that copy's classes
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer uses click itself
    import click  # type: ignore[no-redef]

from kodeio import __version__
from kodeio.errors import KodeioError

# Order of registration (typer lists plain commands before command groups in `--help`).
COMMAND_MODULES = (
    "kodeio.cli.pipeline",
    "kodeio.plan.cli",
    "kodeio.sandbox.cli",
    "kodeio.synth.io.cli",
    "kodeio.synth.verify.cli",
    "kodeio.synth.cli",
    "kodeio.cli.merge",
    "kodeio.data.cli",
    "kodeio.train.cli",
    "kodeio.eval.cli",
    "kodeio.export.cli",
    "kodeio.cli.models",
    "kodeio.cli.ui",
)


def _flag_type(self: TyperOption, ctx: click.Context) -> str | None:
    # typer prints "<bool>" after every flag in --help; a flag takes no value, so show none.
    return None if self.is_flag else _option_type(self, ctx)


_option_type = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]


class CommandModuleError(ImportError):
    """A module listed in `COMMAND_MODULES` cannot be imported or has no `register(app)`."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kodeio {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """kodeio command line."""


def register_commands(app: typer.Typer) -> None:
    """Add every area's commands to `app`; a module that fails to import is named, not skipped."""
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise CommandModuleError(
                f"kodeio command module {name!r} (kodeio.cli.COMMAND_MODULES) cannot be "
                f"imported: {exc}"
            ) from exc
        register = getattr(module, "register", None)
        if not callable(register):
            raise CommandModuleError(
                f"kodeio command module {name!r} (kodeio.cli.COMMAND_MODULES) has no "
                "register(app) function"
            )
        register(app)


def build_app() -> typer.Typer:
    """A new root app with every command registered."""
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
    app.callback()(_root)
    register_commands(app)
    return app


@functools.cache
def get_app() -> typer.Typer:
    """The root app `kodeio` runs (built once per process)."""
    return build_app()


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors become one red line and a non-zero exit, never a traceback."""
    command = typer.main.get_command(get_app())
    try:
        command.main(args=argv, prog_name="kodeio", standalone_mode=False)
    except KodeioError as exc:
        from kodeio.progress import console

        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except click.ClickException as exc:  # a mistyped command or option: usage line, exit 2
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return 0
