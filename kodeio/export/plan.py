"""Planning an export: every input checked and every path decided, before anything is written.

Checked here: adapter present and LoRA, base resolvable (for a merge: the 16-bit original of
a 4-bit training model, `kodeio.export.base`) and matching the adapter's keys and shapes, tokenizer size within the embedding rows, llama.cpp converter found, tokenizer
recognizable by the converter, hub token present when pushing. (Quant names are checked by
the config.)
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kodeio.errors import InputError
from kodeio.export.base import MergeBase, resolve_merge_base
from kodeio.export.config import ExportConfig

# In the staging directory: the fingerprint of the inputs its finished parts were made from.
STAMP = "kodeio_export_inputs.json"


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
    merge_base: MergeBase | None = None  # None when nothing is merged (adapter only)
    verify: bool = False
    fingerprint: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def staging(self) -> Path:
        return self.out_dir.with_name(self.out_dir.name + ".partial")


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
    trained_on = (_run_model(run_dir) if run_dir else None) or adapter.config.get(
        "base_model_name_or_path"
    )
    base_arg = cfg.base or trained_on
    if not base_arg:
        raise InputError(
            f"{adapter_dir}/adapter_config.json: no base_model_name_or_path; pass --base MODEL"
        )
    merge_base = None
    if "merged" in cfg.targets or "gguf" in cfg.targets:
        merge_base = resolve_merge_base(
            str(base_arg), cfg.merge_onto_4bit, str(trained_on or base_arg)
        )
        base_arg, base_dir = merge_base.arg, merge_base.dir
    else:
        base_dir = resolve_model_dir(base_arg)  # the tokenizer fallback and the shape check
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
        merge_base=merge_base,
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
