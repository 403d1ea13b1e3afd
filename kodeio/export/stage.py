"""`run_stage(ExportConfig)`: adapter, merged weights and GGUF files, checked and listed.

Everything is built in `OUT.partial/` beside the output directory and moved into `OUT` only
when every requested part succeeded (and the parity check passed), so a failure leaves no
half-written export. A rerun with the same inputs reuses finished parts in `OUT.partial/`
(the merge of a large model is the expensive one).

All inputs are checked before any work starts: adapter present and LoRA, base resolvable and
matching the adapter's keys and shapes, tokenizer size within the embedding rows, quant
names, llama.cpp converter found, tokenizer recognizable by the converter, hub token
present when pushing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from kodeio.errors import InputError, KodeioError
from kodeio.export.config import ExportConfig
from kodeio.export.quants import CONVERTER_TYPES, LOSSLESS_TYPES, QUANTIZER_TYPES
from kodeio.files import atomic_write_text
from kodeio.progress import console, progress_bar

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")
_STAMP = "kodeio_export_inputs.json"


class ParityError(KodeioError):
    """A lossless GGUF did not reproduce the merged model's greedy tokens."""


@dataclass
class Plan:
    cfg: ExportConfig
    run_dir: Path | None
    adapter_dir: Path
    base_arg: str
    base_dir: Path
    out_dir: Path
    name: str
    quants: list[str]
    llama_dir: Path | None
    verify: bool = False
    fingerprint: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def staging(self) -> Path:
        return self.out_dir.with_name(self.out_dir.name + ".partial")


# ---------------------------------------------------------------- planning (no writes)


def _run_model(run_dir: Path) -> str | None:
    path = run_dir / "config.yaml"
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        raise InputError(f"{path}: not valid YAML") from None
    if not isinstance(data, dict):
        return None
    model = data.get("model") or (data.get("train") or {}).get("model")
    return str(model) if model else None


def _sanitize(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "model"


def _tokenizer_max_id(tokenizer_json: Path) -> int:
    data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    ids = (
        list((data.get("model") or {}).get("vocab", {}).values())
        if isinstance((data.get("model") or {}).get("vocab"), dict)
        else []
    )
    ids += [t["id"] for t in data.get("added_tokens", [])]
    return max(ids) if ids else -1


def _fingerprint(plan: Plan) -> str:
    h = hashlib.sha256()
    for path in sorted(plan.adapter_dir.iterdir()):
        if path.is_file():
            st = path.stat()
            h.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    h.update(str(plan.base_dir.resolve()).encode())
    # Only what the staged parts are made from: each GGUF is keyed by its own file name, so
    # adding a quant or changing the parity settings keeps the finished merge.
    made_from = {k: getattr(plan.cfg, k) for k in ("dtype", "max_shard_size", "llama_cpp")}
    h.update(json.dumps({**made_from, "name": plan.name}, sort_keys=True).encode())
    return h.hexdigest()[:16]


def plan_export(cfg: ExportConfig) -> Plan:
    from kodeio.export.merge import BaseCheckpoint, check_adapter_matches, load_adapter
    from kodeio.models import resolve_model_dir

    run_dir = Path(cfg.run_dir).expanduser() if cfg.run_dir else None
    if run_dir is not None and not run_dir.is_dir():
        raise InputError(f"{run_dir}: run directory not found")
    if run_dir is not None and not (run_dir / "adapter").exists() and (run_dir / "train").is_dir():
        run_dir = run_dir / "train"  # a pipeline run dir: training wrote RUN/train/
    adapter_dir = Path(cfg.adapter).expanduser() if cfg.adapter else run_dir / "adapter"  # type: ignore[operator]
    adapter = load_adapter(adapter_dir)  # checks presence and format
    base_arg = (
        cfg.base
        or (_run_model(run_dir) if run_dir else None)
        or adapter.config.get("base_model_name_or_path")
    )
    if not base_arg:
        raise InputError(
            f"{adapter_dir}/adapter_config.json: no base_model_name_or_path; pass --base MODEL"
        )
    base_dir = resolve_model_dir(base_arg)
    ckpt = BaseCheckpoint(base_dir)
    try:
        check_adapter_matches(adapter, ckpt)
        vocab_rows = int(ckpt.config.get("vocab_size") or 0)
    finally:
        ckpt.close()
    embed = next(
        (t for k, t in adapter.replacements.items() if k.endswith("embed_tokens.weight")), None
    )
    if embed is not None:
        vocab_rows = int(embed.shape[0])
    tok_src = adapter_dir if (adapter_dir / "tokenizer.json").is_file() else base_dir
    if (tok_src / "tokenizer.json").is_file() and vocab_rows:
        max_id = _tokenizer_max_id(tok_src / "tokenizer.json")
        if max_id >= vocab_rows:
            raise InputError(
                f"{tok_src / 'tokenizer.json'}: token id {max_id} but the model has {vocab_rows} "
                "embedding rows; resize the embeddings during training (modules_to_save)"
            )

    if cfg.output:
        out_dir = Path(cfg.output).expanduser()
    else:
        root = run_dir.parent if run_dir.name == "train" else run_dir  # type: ignore[union-attr]
        out_dir = root / "export"
    if cfg.name:
        name = cfg.name
    elif run_dir is not None:
        named = run_dir.parent if run_dir.name == "train" else run_dir
        name = _sanitize(named.resolve().name)
    else:
        name = _sanitize(
            adapter_dir.resolve().name
            if adapter_dir.name != "adapter"
            else adapter_dir.resolve().parent.name
        )

    llama_dir = None
    if "gguf" in cfg.targets:
        from kodeio.export.llamacpp import find_llama_cpp

        llama_dir = find_llama_cpp(cfg.llama_cpp)
        _check_tokenizer_convertible(tok_src, base_dir, llama_dir)
    if cfg.push_to_hub:
        from kodeio.export.hub import require_token

        require_token(cfg.push_to_hub)
    plan = Plan(
        cfg=cfg, run_dir=run_dir, adapter_dir=adapter_dir, base_arg=str(base_arg),
        base_dir=base_dir, out_dir=out_dir, name=name, quants=list(cfg.quant), llama_dir=llama_dir,
    )  # fmt: skip
    plan.fingerprint = _fingerprint(plan)
    return plan


def _check_tokenizer_convertible(tok_src: Path, base_dir: Path, llama_dir: Path) -> None:
    """Fail fast on a tokenizer llama.cpp cannot convert, before the (long) merge."""
    import tempfile

    from kodeio.export.gguf_convert import classify_pre_tokenizer
    from kodeio.export.llamacpp import convert
    from kodeio.export.merge import copy_tokenizer

    tok_json = tok_src / "tokenizer.json"
    if tok_json.is_file():
        try:
            data = json.loads(tok_json.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{tok_json}: not valid JSON ({exc.msg})") from None
        if classify_pre_tokenizer(data):
            return  # recognized by its split rules whatever the vocabulary hash says
    # Otherwise let the converter decide on the vocabulary alone (a few seconds).
    with tempfile.TemporaryDirectory(prefix="kodeio-vocab-") as tmp:
        tmpd = Path(tmp)
        shutil.copy2(base_dir / "config.json", tmpd / "config.json")
        copy_tokenizer(tok_src, tmpd)
        convert(llama_dir, tmpd, tmpd / "vocab.gguf", "f16", tmpd / "vocab.log", vocab_only=True)


# ---------------------------------------------------------------- steps


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def _gguf_path(plan: Plan, root: Path, quant: str) -> Path:
    return root / f"{plan.name}-{quant}.gguf"


def _param_count(merged_dir: Path) -> int:
    index = json.loads((merged_dir / "model.safetensors.index.json").read_text())
    cfg = json.loads((merged_dir / "config.json").read_text())
    width = 4 if cfg.get("dtype") == "float32" else 2
    return int(index["metadata"]["total_size"]) // width


def run_stage(cfg: ExportConfig) -> Path:
    """Export what `cfg.targets` asks for into `cfg.output`; returns the output directory."""
    plan = plan_export(cfg)
    staging = plan.staging
    stamp = staging / _STAMP
    if staging.exists():
        try:
            same = json.loads(stamp.read_text()).get("fingerprint") == plan.fingerprint
        except (OSError, json.JSONDecodeError):
            same = False
        if not same:
            shutil.rmtree(staging)
    staging.mkdir(parents=True, exist_ok=True)
    atomic_write_text(stamp, json.dumps({"fingerprint": plan.fingerprint}) + "\n")
    logs = staging / "logs"
    logs.mkdir(exist_ok=True)

    targets = cfg.targets
    want_gguf = "gguf" in targets
    lossless_direct = [q for q in plan.quants if q in CONVERTER_TYPES]
    k_quants = [q for q in plan.quants if q in QUANTIZER_TYPES]
    steps = (
        ("adapter" in targets)
        + ("merged" in targets or want_gguf)
        + (
            len(lossless_direct)
            + len(k_quants)
            + (1 if k_quants and "f16" not in plan.quants else 0)
        )
        * want_gguf
        + 2
    )
    merge_info: dict[str, Any] | None = None
    parity: dict[str, dict[str, Any]] = {}
    pre_tokenizer = None
    with progress_bar(f"export {plan.name}", total=steps) as bar:

        def step(label: str) -> None:
            bar.update(0, info=label)

        def done() -> None:
            bar.advance(0)

        if "adapter" in targets:
            step("adapter")
            if not (staging / "adapter").is_dir():
                _export_adapter(plan, staging / "adapter")
            done()

        merged = staging / "merged"
        if "merged" in targets or want_gguf:
            step("merging (streamed, shard by shard)")
            from kodeio.export.merge import merge_adapter

            info_path = staging / "merge.json"
            if merged.is_dir() and info_path.is_file():
                merge_info = json.loads(info_path.read_text())
            else:
                t0 = time.perf_counter()
                merge_info = merge_adapter(
                    plan.adapter_dir,
                    plan.base_dir,
                    merged,
                    dtype=cfg.dtype,
                    max_shard_size=cfg.max_shard_size,
                )
                merge_info["seconds"] = round(time.perf_counter() - t0, 2)
                atomic_write_text(info_path, json.dumps(merge_info) + "\n")
            plan.timings["merge"] = merge_info.get("seconds", 0.0)
            done()

        ggufs: dict[str, Path] = {}
        if want_gguf:
            from kodeio.export.llamacpp import convert, quantize

            assert plan.llama_dir is not None
            need_f16 = bool(k_quants) or "f16" in plan.quants
            direct = list(dict.fromkeys([*(["f16"] if need_f16 else []), *lossless_direct]))
            for quant in direct:
                step(f"convert {quant}")
                path = _gguf_path(plan, staging, quant)
                if not path.is_file():
                    t0 = time.perf_counter()
                    tmp = path.with_name(path.name + ".tmp")
                    convert(plan.llama_dir, merged, tmp, quant, logs / f"convert-{quant}.log")
                    tmp.rename(path)
                    plan.timings[f"convert_{quant}"] = round(time.perf_counter() - t0, 2)
                ggufs[quant] = path
                done()
            for quant in k_quants:
                step(f"quantize {quant}")
                path = _gguf_path(plan, staging, quant)
                if not path.is_file():
                    t0 = time.perf_counter()
                    tmp = path.with_name(path.name + ".tmp")
                    quantize(ggufs["f16"], tmp, quant, logs / f"quantize-{quant}.log")
                    tmp.rename(path)
                    plan.timings[f"quantize_{quant}"] = round(time.perf_counter() - t0, 2)
                ggufs[quant] = path
                done()
            pre_tokenizer = _gguf_pre_tokenizer(ggufs[next(iter(ggufs))])

            plan.verify = (
                cfg.verify
                if cfg.verify is not None
                else _param_count(merged) <= cfg.verify_max_params
            )
            step("parity check" if plan.verify else "modelfiles")
            if plan.verify:
                from kodeio.export.parity import check_files, default_prompts

                t0 = time.perf_counter()
                checked = {q: p for q, p in ggufs.items() if q in plan.quants}
                parity = check_files(
                    merged,
                    checked,
                    cfg.verify_prompts or default_prompts(),
                    cfg.verify_tokens,
                    LOSSLESS_TYPES,
                )
                plan.timings["parity"] = round(time.perf_counter() - t0, 2)
            from kodeio.export.modelfile import write_modelfile

            for quant in plan.quants:
                write_modelfile(merged, ggufs[quant], f"{plan.name}-{quant}")
            done()
            if "f16" not in plan.quants:  # the intermediate for k-quants is not an output
                ggufs.pop("f16").unlink()
                ggufs = {q: p for q, p in ggufs.items() if q in plan.quants}

        failed = {q: s for q, s in parity.items() if s["status"] == "fail"}
        if failed:
            q, s = next(iter(failed.items()))
            bad = next(
                d for d in s["details"] if d["diverged_at"] is not None or not d["tokenizer_match"]
            )
            why = (
                "llama.cpp tokenizes the prompt differently"
                if not bad["tokenizer_match"]
                else f"greedy token {bad['diverged_at']} differs (HF top-2 gap {bad['gap_at_divergence']})"
            )
            raise ParityError(
                f"parity check failed for {plan.name}-{q}.gguf: {why}; nothing was published, "
                f"the files are in {staging} (use --no-verify to export anyway)"
            )

        step("manifest")
        if "merged" not in targets and merged.exists():
            shutil.rmtree(merged)
        manifest = _manifest(plan, staging, ggufs, parity, merge_info, pre_tokenizer)
        _publish(plan, staging, manifest)
        done()

    if cfg.push_to_hub:
        from kodeio.export.hub import push

        url = push(plan.out_dir, cfg.push_to_hub, cfg.private)
        console.print(f"pushed to {url}", highlight=False)
    return plan.out_dir


def _gguf_pre_tokenizer(path: Path) -> str | None:
    try:
        from gguf import GGUFReader  # reading metadata only; conversion never uses this package

        field_ = GGUFReader(str(path)).fields.get("tokenizer.ggml.pre")
        return str(field_.contents()) if field_ is not None else None
    except Exception:
        return None


def _manifest(
    plan: Plan,
    staging: Path,
    ggufs: dict[str, Path],
    parity: dict[str, dict[str, Any]],
    merge_info: dict[str, Any] | None,
    pre_tokenizer: str | None,
) -> dict[str, Any]:
    from kodeio import __version__
    from kodeio.models import KNOWN_MODELS

    files = []
    for path in sorted(staging.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(staging).as_posix()
        if rel in (_STAMP, "merge.json") or rel.startswith("logs/"):
            continue
        kind = (
            rel.split("/", 1)[0]
            if "/" in rel
            else (
                "gguf"
                if rel.endswith(".gguf")
                else "modelfile"
                if rel.endswith(".Modelfile")
                else "other"
            )
        )
        entry: dict[str, Any] = {
            "path": rel,
            "kind": kind,
            "bytes": path.stat().st_size,
            "sha256": _sha256(path),
        }
        quant = next((q for q, p in ggufs.items() if p == path), None)
        if quant:
            entry["quant"] = quant
            summary = parity.get(quant)
            entry["parity"] = (
                {k: v for k, v in summary.items() if k != "details"} if summary else None
            )
        files.append(entry)
    known = KNOWN_MODELS.get(plan.base_arg.lower())
    base_id = (
        known.hub_id
        if known
        else plan.base_arg
        if re.fullmatch(r"[\w.-]+/[\w.-]+", plan.base_arg) and not Path(plan.base_arg).exists()
        else None
    )
    llama_source = (
        "user"
        if (plan.cfg.llama_cpp or os.environ.get("KODEIO_LLAMA_CPP"))
        else "llama-cpp-python sdist"
    )
    return {
        "kodeio_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "name": plan.name,
        "targets": list(plan.cfg.targets),
        "run_dir": str(plan.run_dir) if plan.run_dir else None,
        "adapter": str(plan.adapter_dir),
        "base_model": plan.base_arg,
        "base_model_id": base_id,
        "base_dir": str(plan.base_dir),
        "merge": merge_info,
        "gguf": {
            "quants": list(ggufs),
            "llama_cpp": str(plan.llama_dir) if plan.llama_dir else None,
            "llama_cpp_source": llama_source if plan.llama_dir else None,
            "pre_tokenizer": pre_tokenizer,
        }
        if ggufs
        else None,
        "verify": {
            "enabled": plan.verify,
            "tokens": plan.cfg.verify_tokens,
            "strict_types": list(LOSSLESS_TYPES),
        },
        "parity": parity,
        "timings_s": plan.timings,
        "files": files,
    }


def _publish(plan: Plan, staging: Path, manifest: dict[str, Any]) -> None:
    """Card + manifest into staging, then move each part into OUT (replacing old ones)."""
    from kodeio.export.card import render_card

    (staging / "README.md").write_text(
        render_card(manifest, plan.run_dir, plan.cfg.push_to_hub), encoding="utf-8"
    )
    manifest["files"].append(
        {
            "path": "README.md",
            "kind": "card",
            "bytes": (staging / "README.md").stat().st_size,
            "sha256": _sha256(staging / "README.md"),
        }
    )
    atomic_write_text(
        staging / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    )
    (staging / _STAMP).unlink(missing_ok=True)
    (staging / "merge.json").unlink(missing_ok=True)
    out = plan.out_dir
    out.mkdir(parents=True, exist_ok=True)
    # The old manifest goes first: until the new one lands, OUT does not claim to be complete.
    (out / "manifest.json").unlink(missing_ok=True)
    for item in sorted(staging.iterdir(), key=lambda p: p.name == "manifest.json"):
        target = out / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        os.replace(item, target)
    staging.rmdir()
