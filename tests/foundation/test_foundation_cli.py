"""The CLI as a new user meets it: help texts, fast help, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kodeio.cli import main

KODEIO = [sys.executable, "-m", "kodeio.cli"]


def test_help_lists_stage_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("sandbox",):
        assert command in out


def test_every_command_has_help():
    from typer.main import get_command

    from kodeio.cli import app

    root = get_command(app)
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
