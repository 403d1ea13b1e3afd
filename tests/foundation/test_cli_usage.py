"""Mistakes on the command line get click's usage line and exit code 2, never a traceback:
a wrong command under every group, a wrong option and a missing argument for every command."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.core import TyperArgument, TyperGroup

from kodeio.cli import get_app, main


def walk(command, path=()):
    """(path, command) for every group and command below `command`."""
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))


def tree():
    import typer

    return list(walk(typer.main.get_command(get_app())))


GROUPS = [path for path, cmd in tree() if isinstance(cmd, TyperGroup)]
COMMANDS = [path for path, cmd in tree() if not isinstance(cmd, TyperGroup)]
NEEDS_ARGUMENT = [
    path
    for path, cmd in tree()
    if not isinstance(cmd, TyperGroup) and any(p.required for p in cmd.params)
]


def usage_error(argv: list[str], capsys) -> str:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, (argv, rc, err)
    assert "Traceback" not in err
    assert err.startswith("Usage: kodeio"), err
    return err


def test_the_tree_is_what_the_help_lists():
    # Guards the walk itself: without it the parametrized tests below could test nothing.
    assert ("sandbox", "run") in COMMANDS and ("run",) in COMMANDS
    assert ("eval",) in GROUPS and len(COMMANDS) >= 25


@pytest.mark.parametrize("path", GROUPS, ids=lambda p: " ".join(p) or "kodeio")
def test_wrong_command(path, capsys):
    err = usage_error([*path, "nosuchcmd"], capsys)
    assert "No such command 'nosuchcmd'" in err


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_wrong_option(path, capsys):
    err = usage_error([*path, "--no-such-option"], capsys)
    assert "No such option: --no-such-option" in err


@pytest.mark.parametrize("path", NEEDS_ARGUMENT, ids=" ".join)
def test_missing_argument(path, capsys):
    cmd = dict(tree())[path]
    err = usage_error(list(path), capsys)
    first = next(p for p in cmd.params if p.required)
    kind = "argument" if isinstance(first, TyperArgument) else "option"
    assert f"Missing {kind}" in err


def test_the_real_entry_point_exits_2_without_a_traceback():
    out = subprocess.run(
        [sys.executable, "-m", "kodeio.cli", "plan-typo"], capture_output=True, text=True
    )
    assert out.returncode == 2 and "No such command 'plan-typo'" in out.stderr
    assert "Traceback" not in out.stderr


def test_help_shows_no_type_after_a_flag(capsys):
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    assert "--version" in top and "<bool>" not in top
    assert main(["run", "--help"]) == 0
    run = capsys.readouterr().out
    assert "--force" in run and "<bool>" not in run and "<path>" in run  # values keep theirs
