"""`run_stage(PlanConfig)`: every stage of a recipe planned against one GPU.

The recipe is read here (YAML + `--set`), not through kodeio/pipeline.py: the plan runs before
the pipeline (`kodeio run` calls it first on a GPU), and only needs the sections' knobs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kodeio.config import describe_validation_error, parse_override, read_yaml, set_dotted
from kodeio.errors import ConfigError, KodeioError
from kodeio.llm.config import SamplingConfig, VllmConfig
from kodeio.plan import hardware
from kodeio.plan.config import PlanConfig
from kodeio.plan.engine import installed_vllm
from kodeio.plan.model_config import ModelShape, load_shape
from kodeio.plan.report import StageReport, render

EVAL_KINDS = ("io", "translate", "mcqa")
ASSUMED_ITEMS = 1000  # when a recipe leaves max_pairs / max_items open


class PlanError(KodeioError):
    """A stage will not fit or will not load on the planned GPU."""


@dataclass
class PlanResult:
    gpu: hardware.Gpu
    reports: list[StageReport]

    @property
    def problems(self) -> list[str]:
        return [p for r in self.reports for p in r.problems]


def _validate(model: type[BaseModel], data: Any, source: Path, prefix: str) -> Any:
    try:
        return model.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, str(source), prefix)) from None


def _recipe(cfg: PlanConfig) -> dict[str, Any]:
    tree = read_yaml(cfg.recipe)
    for item in cfg.overrides:
        keys, value = parse_override(item)
        set_dotted(tree, keys, value)
    return tree


def _gpu(cfg: PlanConfig) -> hardware.Gpu:
    if cfg.gpu:
        return hardware.PRESETS[cfg.gpu]
    if cfg.vram_gb:
        return hardware.custom(cfg.vram_gb)
    found = hardware.detect()
    if found is None:
        raise ConfigError("no CUDA GPU here; give --gpu 4090|a100-80|h100|h200 or --vram-gb N")
    return found


class _Models:
    """config.json shapes, read once per model; known kodeio names resolve to their directory."""

    def __init__(self, cfg: PlanConfig) -> None:
        from huggingface_hub import constants

        self.offline = cfg.offline if cfg.offline is not None else bool(constants.HF_HUB_OFFLINE)
        self.skip = cfg.skip_unknown_models
        self.shapes: dict[str, ModelShape] = {}

    def get(self, name: str, rep: StageReport) -> ModelShape | None:
        if name not in self.shapes:
            from kodeio.models import KNOWN_MODELS, resolve_model

            try:
                path = resolve_model(name, prepare=False) if name.lower() in KNOWN_MODELS else name
                self.shapes[name] = load_shape(path, self.offline)
            except KodeioError as exc:
                if not self.skip:
                    raise ConfigError(f"{rep.stage}: {exc}") from None
                rep.notes.append(f"not planned: {exc}")
                return None
        shape = self.shapes[name]
        rep.notes.append(f"config.json from {shape.source}")
        return shape


def _model(section: dict[str, Any], tree: dict[str, Any], key: str = "model") -> str | None:
    name = section.get(key) or tree.get("model")
    return str(name) if name else None


def _synth(tree: dict[str, Any], cfg: PlanConfig, gpu: hardware.Gpu, models: _Models,
           engine: Any) -> StageReport | None:  # fmt: skip
    from kodeio.plan.serving import Workload, plan_serving

    sec = tree.get("synth") or {}
    backend = sec.get("backend", "vllm")
    rep = StageReport("synth", _model(sec, tree))
    if backend != "vllm" or not rep.model:
        rep.notes.append(f"backend {backend}: no GPU serving to plan")
        return rep
    vllm = _validate(VllmConfig, sec.get("vllm"), cfg.recipe, "synth.vllm.")
    sampling = _validate(SamplingConfig, sec.get("sampling"), cfg.recipe, "synth.sampling.")
    shape = models.get(rep.model, rep)
    if shape is None:
        return rep
    pairs = sec.get("max_pairs") or ASSUMED_ITEMS
    modes = len(sec.get("modes") or ["output", "input"])
    revisions = int(sec.get("revisions", 1))
    turns = 1 + revisions * cfg.revision_rate
    what = (
        f"{pairs:,} pairs{'' if sec.get('max_pairs') else ' (max_pairs unset: per 1,000)'} x "
        f"{modes} modes x {sampling.n_samples} samples x (1 + {revisions} revision x "
        f"{cfg.revision_rate:g} assumed miss rate)"
    )
    work = Workload(pairs * modes * sampling.n_samples * turns, sampling.max_tokens, what)
    plan_serving(rep, shape, vllm, work, gpu, cfg, engine)
    return rep


def _eval(tree: dict[str, Any], cfg: PlanConfig, gpu: hardware.Gpu, models: _Models,
          engine: Any) -> StageReport | None:  # fmt: skip
    from kodeio.plan.serving import Workload, plan_serving

    sec = tree.get("eval") or {}
    if not sec:
        return None
    shared = {k: v for k, v in sec.items() if k not in EVAL_KINDS}
    rep = StageReport("eval", _model(shared, tree))
    if shared.get("backend", "vllm") != "vllm" or not rep.model:
        rep.notes.append(f"backend {shared.get('backend')}: no GPU serving to plan")
        return rep
    vllm = _validate(VllmConfig, shared.get("vllm"), cfg.recipe, "eval.vllm.")
    defaults = {"translate": {"temperature": 0.0, "max_tokens": 2048},
                "mcqa": {"temperature": 0.0, "max_tokens": 4096}}  # fmt: skip
    loads: list[tuple[float, int, str]] = []
    for kind in EVAL_KINDS:
        own = sec.get(kind)
        if not isinstance(own, dict):
            continue
        raw = own.get("sampling", shared.get("sampling", defaults.get(kind)))
        sampling = _validate(SamplingConfig, raw, cfg.recipe, f"eval.{kind}.sampling.")
        items = own.get("max_items", shared.get("max_items")) or ASSUMED_ITEMS
        per_item = (
            len(own.get("modes") or ["output", "input"]) * sampling.n_samples
            if kind == "io"
            else len(own.get("directions") or ["ko-en", "en-ko"])
            if kind == "translate"
            else 1
        )
        loads.append((2 * items * per_item, sampling.max_tokens,
                      f"{kind} {items:,}x{per_item} @ {sampling.max_tokens:,}"))  # fmt: skip
    if not loads:
        return rep
    shape = models.get(rep.model, rep)
    if shape is None:
        return rep
    longest = max(m for _, m, _ in loads)
    requests = sum(n * m / longest for n, m, _ in loads)  # in units of the longest cap
    what = (
        "2 suites (base, tuned) x (" + " + ".join(w for _, _, w in loads) + " max_tokens) "
        f"requests, weighted by max_tokens / {longest:,}"
    )
    work = Workload(requests, longest, what)
    plan_serving(rep, shape, vllm, work, gpu, cfg, engine, lora_rank=vllm.max_lora_rank)
    return rep


def _train_config(tree: dict[str, Any], cfg: PlanConfig) -> Any:
    from kodeio.train.config import TrainConfig

    sec = {k: v for k, v in (tree.get("train") or {}).items() if k != "run_dir"}
    if _model(sec, tree):
        sec["model"] = _model(sec, tree)
    return _validate(TrainConfig, sec, cfg.recipe, "train.")


def run_stage(cfg: PlanConfig, say: Callable[[str], None] = print) -> PlanResult:
    """Plan every stage, print the figures, and raise PlanError naming the first problem."""
    from kodeio.export.config import ExportConfig
    from kodeio.plan.disk import check_merge_base, merge_base_name, plan_disk
    from kodeio.plan.training import plan_training

    tree = _recipe(cfg)
    gpu = _gpu(cfg)
    this_machine = cfg.this_machine or (cfg.gpu is None and cfg.vram_gb is None)
    cfg = cfg.model_copy(update={"this_machine": this_machine})
    engine = installed_vllm()
    models = _Models(cfg)
    reports = [r for r in (_synth(tree, cfg, gpu, models, engine),
                           _eval(tree, cfg, gpu, models, engine)) if r]  # fmt: skip

    train = _train_config(tree, cfg)
    synth = tree.get("synth")
    if isinstance(synth, dict) and reports and reports[0].stage == "synth":
        from kodeio.plan.conversation import check_conversation_fits

        sampling = _validate(SamplingConfig, synth.get("sampling"), cfg.recipe, "synth.sampling.")
        revisions = int(synth.get("revisions", 1))
        check_conversation_fits(reports[0], sampling.max_tokens, revisions,
                                train.max_seq_length, cfg.prompt_tokens)  # fmt: skip
    train_rep = StageReport("train", train.model)
    train_shape = models.get(train.model, train_rep)
    if train_shape is not None:
        rows = (tree.get("data_mix") or {}).get("total")
        plan_training(train_rep, train_shape, train, rows, gpu, cfg)
    reports.append(train_rep)

    sec = dict(tree.get("export") or {})
    run_dir = Path(str(tree.get("run_dir") or "runs"))
    sec.update(run_dir=str(run_dir / "train"), output=str(run_dir / "export"))
    if not sec.get("base"):
        sec.pop("base", None)
    export = _validate(ExportConfig, sec, cfg.recipe, "export.")
    base_name = export.base or train.model
    merging = "merged" in export.targets or "gguf" in export.targets
    notes: list[str] = []
    if merging and not export.merge_onto_4bit:
        base_name = merge_base_name(base_name, notes)
    export_rep = StageReport("export", base_name)
    export_rep.notes.extend(notes)
    base = models.get(base_name, export_rep)
    if merging and base is not None:
        check_merge_base(base, export.merge_onto_4bit, export_rep)
    disk_gb = cfg.disk_gb
    if disk_gb is None and this_machine:
        probe = run_dir.resolve()
        while not probe.exists():
            probe = probe.parent
        disk_gb = shutil.disk_usage(probe).free / 1e9
        export_rep.notes.append(f"free disk at {probe}: {disk_gb:.0f} GB")
    if base is not None:
        downloads = {
            r.model: models.shapes[r.model]
            for r in [*reports, export_rep]
            if r.model in models.shapes
        }
        plan_disk(export_rep, base, export, train.lora_r, train.target_modules, downloads, disk_gb)
    if disk_gb is None:
        export_rep.notes.append("disk not checked (give --disk-gb)")
    reports.append(export_rep)

    vllm_line = engine.label if engine else "vLLM not installed"
    header = (
        f"kodeio plan: {cfg.recipe} on {gpu.name} ({gpu.memory_gib:.2f} GiB"
        + (f", {gpu.bandwidth_gbs:g} GB/s, {gpu.bf16_tflops:g} bf16 TFLOPS" if gpu.bandwidth_gbs
           else "")
        + f"; {vllm_line})\n  assumptions: mean completion {cfg.mean_fraction:g} x max_tokens, "
        f"prompt {cfg.prompt_tokens:,} tokens, revision rate {cfg.revision_rate:g}, overhead "
        f"{cfg.overhead_gb:g} GiB, training at {cfg.train_utilization:g} of peak"
    )  # fmt: skip
    render(reports, header, say)
    result = PlanResult(gpu, reports)
    problems = [p for r in reports if cfg.stages is None or r.stage in cfg.stages
                for p in r.problems]  # fmt: skip
    if problems:
        more = len(problems) - 1
        raise PlanError(problems[0] + (f" (and {more} more above)" if more else ""))
    return result
