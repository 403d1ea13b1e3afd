"""`run_stage(ExportConfig)`: adapter, merged weights and GGUF files, checked and listed.

The merge reads the base `kodeio.export.base` chose: the 16-bit original, also when the run
trained on a 4-bit checkpoint (merging onto dequantized NF4 is an opt-in).

Everything is built in `OUT.partial/` beside the output directory and moved into `OUT` only
when every requested part succeeded (and the parity check passed), so a failure leaves no
half-written export. A rerun with the same inputs reuses finished parts in `OUT.partial/`
(the merge of a large model is the expensive one).

All inputs are checked before any work starts (`kodeio.export.plan`). Then, in order: the
adapter copy, the streamed merge, the GGUF files (`kodeio.export.gguf`: the f16 from the
converter, q8_0 and k-quants from it by the quantizer, the f16 then deleted unless asked for),
the parity check and Ollama Modelfiles, and the manifest, card and move into `OUT`
(`kodeio.export.manifest`; the merged weights are deleted there unless `merged` is a target).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kodeio.errors import KodeioError
from kodeio.export.config import ExportConfig
from kodeio.export.gguf import (
    GgufJob,
    gguf_jobs,
    gguf_path,
    gguf_pre_tokenizer,
    make_gguf,
    param_count,
)
from kodeio.export.manifest import build_manifest, publish
from kodeio.export.plan import STAMP, Plan, plan_export
from kodeio.export.quants import LOSSLESS_TYPES
from kodeio.files import atomic_write_text
from kodeio.progress import console, progress_bar

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")


class ParityError(KodeioError):
    """A lossless GGUF did not reproduce the merged model's greedy tokens."""


def run_stage(cfg: ExportConfig) -> Path:
    """Export what `cfg.targets` asks for into `cfg.output`; returns the output directory."""
    plan = plan_export(cfg)
    if plan.merge_base is not None:
        console.print(plan.merge_base.note, highlight=False, markup=False, soft_wrap=True)
    staging = _prepare_staging(plan)
    targets = cfg.targets
    want_merged = "merged" in targets or "gguf" in targets
    jobs = gguf_jobs(plan.quants) if "gguf" in targets else []
    merged = staging / "merged"
    merge_info: dict[str, Any] | None = None
    ggufs: dict[str, Path] = {}
    parity: dict[str, dict[str, Any]] = {}
    pre_tokenizer = None
    with progress_bar(f"export {plan.name}", total=_step_count(cfg, jobs)) as bar:
        if "adapter" in targets:
            with _step(bar, "adapter"):
                if not (staging / "adapter").is_dir():
                    _export_adapter(plan, staging / "adapter")
        if want_merged:
            with _step(bar, "merging (streamed, shard by shard)"):
                merge_info = _merge(plan, merged)
        if jobs:
            ggufs, pre_tokenizer = _make_ggufs(plan, jobs, merged, bar)
            plan.verify = _verify_wanted(cfg, merged)
            with _step(bar, "parity check" if plan.verify else "modelfiles"):
                if plan.verify:
                    parity = _check_parity(plan, merged, ggufs)
                _write_modelfiles(plan, merged, ggufs)
        _raise_on_parity_failure(plan, parity)
        with _step(bar, "manifest"):
            if "merged" not in targets and merged.exists():
                shutil.rmtree(merged)
            manifest = build_manifest(plan, staging, ggufs, parity, merge_info, pre_tokenizer)
            publish(plan, staging, manifest)
    if cfg.push_to_hub:
        from kodeio.export.hub import push

        url = push(plan.out_dir, cfg.push_to_hub, cfg.private)
        console.print(f"pushed to {url}", highlight=False)
    return plan.out_dir


def _prepare_staging(plan: Plan) -> Path:
    """`OUT.partial/`, kept from an earlier run only when its inputs were the same."""
    staging = plan.staging
    stamp = staging / STAMP
    if staging.exists():
        try:
            same = json.loads(stamp.read_text()).get("fingerprint") == plan.fingerprint
        except (OSError, json.JSONDecodeError):
            same = False
        if not same:
            shutil.rmtree(staging)
    staging.mkdir(parents=True, exist_ok=True)
    atomic_write_text(stamp, json.dumps({"fingerprint": plan.fingerprint}) + "\n")
    (staging / "logs").mkdir(exist_ok=True)
    return staging


def _step_count(cfg: ExportConfig, jobs: list[GgufJob]) -> int:
    # adapter, merge, one per GGUF file, parity/modelfiles and manifest
    targets = cfg.targets
    merge = "merged" in targets or "gguf" in targets
    return ("adapter" in targets) + merge + len(jobs) + 2


@contextmanager
def _step(bar: Any, label: str) -> Iterator[None]:
    """Show `label` on the progress bar while the step runs; count it when it finishes."""
    bar.update(0, info=label)
    yield
    bar.advance(0)


def _export_adapter(plan: Plan, dest: Path) -> None:
    from kodeio.export.merge import copy_tokenizer, has_tokenizer

    tmp = dest.with_name(dest.name + ".copying")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in ADAPTER_FILES:
        if (plan.adapter_dir / name).is_file():
            shutil.copy2(plan.adapter_dir / name, tmp / name)
    copy_tokenizer(plan.adapter_dir if has_tokenizer(plan.adapter_dir) else plan.base_dir, tmp)
    tmp.rename(dest)


def _merge(plan: Plan, merged: Path) -> dict[str, Any]:
    """The merged weights in `merged` (kept from an earlier run when finished); their info."""
    from kodeio.export.merge import merge_adapter

    info_path = plan.staging / "merge.json"
    if merged.is_dir() and info_path.is_file():
        merge_info = json.loads(info_path.read_text())
    else:
        t0 = time.perf_counter()
        merge_info = merge_adapter(
            plan.adapter_dir,
            plan.base_dir,
            merged,
            dtype=plan.cfg.dtype,
            max_shard_size=plan.cfg.max_shard_size,
        )
        merge_info["seconds"] = round(time.perf_counter() - t0, 2)
        atomic_write_text(info_path, json.dumps(merge_info) + "\n")
    plan.timings["merge"] = merge_info.get("seconds", 0.0)
    return merge_info


def _verify_wanted(cfg: ExportConfig, merged: Path) -> bool:
    """`--verify/--no-verify`, else on for models up to `verify_max_params`."""
    if cfg.verify is not None:
        return cfg.verify
    return param_count(merged) <= cfg.verify_max_params


def _check_parity(plan: Plan, merged: Path, ggufs: dict[str, Path]) -> dict[str, dict[str, Any]]:
    from kodeio.export.parity import check_files, default_prompts

    cfg = plan.cfg
    t0 = time.perf_counter()
    checked = {q: p for q, p in ggufs.items() if q in plan.quants}
    parity = check_files(
        merged, checked, cfg.verify_prompts or default_prompts(), cfg.verify_tokens, LOSSLESS_TYPES
    )
    plan.timings["parity"] = round(time.perf_counter() - t0, 2)
    return parity


def _write_modelfiles(plan: Plan, merged: Path, ggufs: dict[str, Path]) -> None:
    from kodeio.export.modelfile import write_modelfile

    for quant in plan.quants:
        write_modelfile(merged, ggufs[quant], f"{plan.name}-{quant}")


def _make_ggufs(
    plan: Plan, jobs: list[GgufJob], merged: Path, bar: Any
) -> tuple[dict[str, Path], str | None]:
    """Every job's GGUF; an f16 made only as the quantizer's input is deleted as soon as the
    last quantized file is written (it is the largest file; the disk peak is while it lives).

    Returns the GGUFs asked for and the pre-tokenizer the converter wrote.
    """
    intermediate = "f16" not in plan.quants
    quantized = [gguf_path(plan, plan.staging, j.quant) for j in jobs if j.action == "quantize"]
    ggufs: dict[str, Path] = {}
    pre_tokenizer = None
    for job in jobs:
        with _step(bar, f"{job.action} {job.quant}"):
            if job.quant == "f16" and intermediate and all(p.is_file() for p in quantized):
                continue  # an earlier run made every quantized file: no f16 needed again
            ggufs[job.quant] = make_gguf(plan, job, merged)
            pre_tokenizer = pre_tokenizer or gguf_pre_tokenizer(ggufs[job.quant])
    f16 = ggufs.pop("f16", None) if intermediate else None
    if f16 is not None:
        f16.unlink()
    return ggufs, pre_tokenizer


def _raise_on_parity_failure(plan: Plan, parity: dict[str, dict[str, Any]]) -> None:
    failed = {q: s for q, s in parity.items() if s["status"] == "fail"}
    if not failed:
        return
    q, s = next(iter(failed.items()))
    bad = next(d for d in s["details"] if d["diverged_at"] is not None or not d["tokenizer_match"])
    why = (
        "llama.cpp tokenizes the prompt differently"
        if not bad["tokenizer_match"]
        else f"greedy token {bad['diverged_at']} differs (HF top-2 gap {bad['gap_at_divergence']})"
    )
    raise ParityError(
        f"parity check failed for {plan.name}-{q}.gguf: {why}; nothing was published, "
        f"the files are in {plan.staging} (use --no-verify to export anyway)"
    )
