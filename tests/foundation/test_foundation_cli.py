"""The CLI as a new user meets it: help texts, fast help, one-line errors, exit codes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from kodeio.cli import main

KODEIO = [sys.executable, "-m", "kodeio.cli"]


def commands_of(module_name: str) -> list[str]:
    """The top-level commands one registered module adds, registered on an app of its own."""
    import importlib

    import typer
    from typer.main import get_command

    app = typer.Typer()
    app.callback()(lambda: None)  # a group even when the module adds a single command
    importlib.import_module(module_name).register(app)
    return list(get_command(app).commands)


def test_help_lists_stage_commands(capsys):
    from kodeio.cli import COMMAND_MODULES

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    listed = re.findall(r"^│ (\w+) ", out, re.MULTILINE)
    for module_name in COMMAND_MODULES:
        commands = commands_of(module_name)
        assert commands, f"{module_name} registers no command"
        for command in commands:
            assert command in listed, f"`kodeio {command}` ({module_name}) missing from --help"
    assert {"run", "sandbox", "io", "synth", "eval", "export", "models", "chat"} <= set(listed)


def test_misspelled_command_module_is_an_error(monkeypatch):
    import kodeio.cli

    monkeypatch.setattr(
        kodeio.cli, "COMMAND_MODULES", (*kodeio.cli.COMMAND_MODULES, "kodeio.sandbox.clii")
    )
    with pytest.raises(kodeio.cli.CommandModuleError, match=r"'kodeio\.sandbox\.clii'"):
        kodeio.cli.build_app()


def test_command_module_without_register_is_an_error(monkeypatch):
    import kodeio.cli

    monkeypatch.setattr(kodeio.cli, "COMMAND_MODULES", ("kodeio.cli.options",))
    with pytest.raises(kodeio.cli.CommandModuleError, match=r"'kodeio\.cli\.options'.*register"):
        kodeio.cli.build_app()


def test_every_command_has_help():
    from typer.main import get_command

    from kodeio.cli import get_app

    root = get_command(get_app())
    assert "sandbox" in root.commands
    for name, cmd in root.commands.items():
        assert cmd.help or cmd.short_help, f"kodeio {name} has no help text"
        for sub_name, sub in getattr(cmd, "commands", {}).items():
            assert sub.help, f"kodeio {name} {sub_name} has no help text"


def test_sandbox_help_does_not_import_torch():
    code = (
        "import sys; from kodeio.cli import main; rc = main(['sandbox', '--help']); "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "assert 'transformers' not in sys.modules; sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_config_error_exit_code_2_without_traceback(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("sandbox:\n  timeout: soon\n  colour: red\n")
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("")
    proc = subprocess.run(
        [
            *KODEIO,
            "sandbox",
            "run",
            str(jobs),
            "-o",
            str(tmp_path / "o.jsonl"),
            "--config",
            str(cfg),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(cfg) in proc.stderr and "sandbox.timeout" in proc.stderr and "colour" in proc.stderr


def test_console_script_installed():
    script = Path(sys.executable).parent / "kodeio"
    assert script.exists()
