"""Merge a LoRA adapter into its base, streaming tensor by tensor, into 16-bit safetensors.

Loading the whole base plus PEFT and calling `merge_and_unload()` needs the full model in
memory (and a 4-bit base must be dequantized whole first), which is why merges of large
models run out of memory. Here the base checkpoint is read one tensor at a time with plain
file reads (no mmap, see `SafetensorsFile`); each LoRA target gets `W + scale * B @ A` (DoRA: rescaled per output
row), everything is cast to the output dtype, and output shards are flushed as soon as they
reach `max_shard_bytes`. Peak memory is about one output shard plus the adapter.

A bitsandbytes 4-bit base (Unsloth's `-bnb-4bit` checkpoints) is dequantized per tensor in
plain torch (NF4/FP4 with nested absmax). The export only merges onto one when asked to
(`merge_onto_4bit`); by default it merges onto the 16-bit original (kodeio/export/base.py).
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from kodeio.errors import InputError

_ADAPTER_PREFIX = "base_model.model."
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "chat_template.json",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    "added_tokens.json",
)
DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


@dataclass
class LoraModule:
    """One base weight the adapter changes."""

    base_key: str
    a: torch.Tensor | None = None
    b: torch.Tensor | None = None
    magnitude: torch.Tensor | None = None  # DoRA
    embedding: bool = False
    scale: float = 1.0


@dataclass
class Adapter:
    path: Path
    config: dict[str, Any]
    modules: dict[str, LoraModule] = field(default_factory=dict)  # base key -> module
    replacements: dict[str, torch.Tensor] = field(default_factory=dict)  # modules_to_save


def parse_size(text: str | int) -> int:
    """'2GB' / '500MB' / '100KB' / 12345 -> bytes."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?i?B)?\s*", text, re.IGNORECASE)
    if not m:
        raise InputError(f"max_shard_size {text!r}: expected a size like 2GB or 500MB")
    unit = (m.group(2) or "B").upper().replace("I", "")
    factor = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9}[unit]
    return int(float(m.group(1)) * factor)


# ---------------------------------------------------------------- adapter


def read_adapter_config(adapter_dir: Path) -> dict[str, Any]:
    cfg_path = adapter_dir / "adapter_config.json"
    if not adapter_dir.is_dir():
        raise InputError(f"{adapter_dir}: adapter directory not found")
    if not cfg_path.is_file():
        raise InputError(
            f"{cfg_path}: not found; expected a PEFT adapter directory (save_pretrained)"
        )
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{cfg_path}: not valid JSON ({exc.msg})") from None
    peft_type = str(cfg.get("peft_type", "")).upper()
    if peft_type != "LORA":
        raise InputError(
            f"{cfg_path}: peft_type {cfg.get('peft_type')!r}; only LORA adapters can be merged"
        )
    return cfg


def _pattern_value(patterns: dict[str, Any], module: str, default: Any) -> Any:
    # PEFT matches rank_pattern/alpha_pattern keys as a suffix of the module name.
    for key, value in (patterns or {}).items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def load_adapter(adapter_dir: Path) -> Adapter:
    cfg = read_adapter_config(adapter_dir)
    weights = adapter_dir / "adapter_model.safetensors"
    if weights.is_file():
        tensors: dict[str, torch.Tensor] = {}
        with safe_open(str(weights), framework="pt") as fh:
            for key in fh.keys():  # noqa: SIM118 (safe_open has no __iter__)
                tensors[key] = fh.get_tensor(key)
    elif (adapter_dir / "adapter_model.bin").is_file():
        tensors = torch.load(
            adapter_dir / "adapter_model.bin", map_location="cpu", weights_only=True
        )
    else:
        raise InputError(
            f"{adapter_dir}: no adapter_model.safetensors; expected a PEFT adapter directory"
        )
    adapter = Adapter(path=adapter_dir, config=cfg)
    lora_re = re.compile(
        r"^(?P<mod>.+)\.(?P<part>lora_A|lora_B|lora_embedding_A|lora_embedding_B|lora_magnitude_vector)"
        r"(?:\.default)?(?:\.weight)?$"
    )
    for key, tensor in tensors.items():
        name = key[len(_ADAPTER_PREFIX) :] if key.startswith(_ADAPTER_PREFIX) else key
        m = lora_re.match(name)
        if not m:
            # modules_to_save: a full replacement tensor (e.g. resized embeddings).
            name = name.replace(".modules_to_save.default", "").replace(".modules_to_save", "")
            adapter.replacements[name] = tensor
            continue
        module, part = m.group("mod"), m.group("part")
        base_key = f"{module}.weight"
        entry = adapter.modules.setdefault(base_key, LoraModule(base_key=base_key))
        if part in ("lora_A", "lora_embedding_A"):
            entry.a = tensor
        elif part in ("lora_B", "lora_embedding_B"):
            entry.b = tensor
        else:
            entry.magnitude = tensor
        entry.embedding = entry.embedding or part.startswith("lora_embedding")
    for base_key, entry in adapter.modules.items():
        if entry.a is None or entry.b is None:
            raise InputError(f"{weights}: {base_key} has only one of lora_A / lora_B")
        module = base_key[: -len(".weight")]
        rank = entry.a.shape[0]
        r = _pattern_value(cfg.get("rank_pattern"), module, cfg.get("r", rank))
        alpha = _pattern_value(cfg.get("alpha_pattern"), module, cfg.get("lora_alpha", r))
        entry.scale = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
    return adapter


# ---------------------------------------------------------------- base checkpoint

_ST_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}  # fmt: skip


class SafetensorsFile:
    """Reads one tensor at a time with plain reads.

    `safe_open` memory-maps the file, and every page a merge touches stays in the process's
    resident set until the file is closed: the whole base ends up "in memory". Plain reads
    keep only the tensor being merged.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = path.open("rb")
        try:
            size = int.from_bytes(self._fh.read(8), "little")
            header = json.loads(self._fh.read(size))
        except (ValueError, UnicodeDecodeError):
            self._fh.close()
            raise InputError(f"{path}: not a safetensors file") from None
        header.pop("__metadata__", None)
        self.header: dict[str, Any] = header
        self._base = 8 + size

    def keys(self) -> list[str]:
        return list(self.header)

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self.header[key]["shape"])

    def get(self, key: str) -> torch.Tensor:
        info = self.header[key]
        dtype = _ST_DTYPES.get(info["dtype"])
        if dtype is None:
            raise InputError(f"{self.path}: tensor {key} has unsupported dtype {info['dtype']}")
        start, end = info["data_offsets"]
        buf = bytearray(end - start)
        self._fh.seek(self._base + start)
        self._fh.readinto(buf)
        if not buf:
            return torch.empty(info["shape"], dtype=dtype)
        return torch.frombuffer(buf, dtype=dtype).reshape(info["shape"])

    def close(self) -> None:
        self._fh.close()


class BaseCheckpoint:
    """Lazy access to a safetensors checkpoint's tensors, one at a time, across shards."""

    def __init__(self, model_dir: Path) -> None:
        self.dir = model_dir
        cfg_path = model_dir / "config.json"
        if not cfg_path.is_file():
            raise InputError(f"{cfg_path}: not found; expected a Hugging Face model directory")
        self.config = json.loads(cfg_path.read_text(encoding="utf-8"))
        index = model_dir / "model.safetensors.index.json"
        if index.is_file():
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        elif (model_dir / "model.safetensors").is_file():
            single = SafetensorsFile(model_dir / "model.safetensors")
            weight_map = {k: "model.safetensors" for k in single.header}
            single.close()
        else:
            raise InputError(
                f"{model_dir}: no model.safetensors or model.safetensors.index.json; "
                "the base must be a safetensors checkpoint"
            )
        self.weight_map: dict[str, str] = weight_map
        self.shards = list(dict.fromkeys(weight_map.values()))
        self._handles: dict[str, SafetensorsFile] = {}
        quant = self.config.get("quantization_config") or {}
        self.quant_method = quant.get("quant_method")
        if self.quant_method == "bitsandbytes" and quant.get("load_in_8bit"):
            raise InputError(
                f"{cfg_path}: an 8-bit bitsandbytes base cannot be merged; use the 16-bit or 4-bit base"
            )
        if self.quant_method not in (None, "bitsandbytes"):
            raise InputError(
                f"{cfg_path}: quantization {self.quant_method!r} is not supported for merging; "
                "use the 16-bit base model"
            )

    def handle(self, shard: str) -> SafetensorsFile:
        if shard not in self._handles:
            path = self.dir / shard
            if not path.is_file():
                raise InputError(f"{path}: shard listed in the index is missing")
            self._handles[shard] = SafetensorsFile(path)
        return self._handles[shard]

    def raw(self, key: str) -> torch.Tensor:
        return self.handle(self.weight_map[key]).get(key)

    def shape(self, key: str) -> tuple[int, ...]:
        return self.handle(self.weight_map[key]).shape(key)

    def is_component(self, key: str) -> bool:
        """bitsandbytes side tensors (absmax, quant_map, quant_state...) of a 4-bit weight."""
        return bool(
            re.search(
                r"\.weight\.(absmax|quant_map|nested_absmax|nested_quant_map|quant_state\..*)$", key
            )
        )

    def logical_keys(self) -> Iterator[tuple[str, str]]:
        """(key, shard) for every real tensor, in checkpoint order, shard by shard."""
        for shard in self.shards:
            for key, s in self.weight_map.items():
                if s == shard and not self.is_component(key):
                    yield key, shard

    def tensor(self, key: str) -> torch.Tensor:
        """The tensor, dequantized to float32 if it is a bitsandbytes 4-bit weight."""
        state_key = self.quant_state_key(key)
        if state_key is None:
            return self.raw(key)
        return dequantize_bnb_4bit(
            self.raw(key),
            lambda suffix: (
                self.raw(f"{key}.{suffix}") if f"{key}.{suffix}" in self.weight_map else None
            ),
            self.raw(state_key),
        )

    def quant_state_key(self, key: str) -> str | None:
        for kind in ("nf4", "fp4"):
            if f"{key}.quant_state.bitsandbytes__{kind}" in self.weight_map:
                return f"{key}.quant_state.bitsandbytes__{kind}"
        return None

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()


def dequantize_bnb_4bit(
    packed: torch.Tensor,
    component: Callable[[str], torch.Tensor | None],
    quant_state: torch.Tensor,
) -> torch.Tensor:
    """bitsandbytes NF4/FP4 (optionally double-quantized absmax) -> float32, in plain torch."""
    state = json.loads(bytes(quant_state.to(torch.uint8).tolist()).decode("utf-8"))
    blocksize = int(state["blocksize"])
    shape = tuple(state["shape"])
    quant_map = component("quant_map")
    absmax = component("absmax")
    if quant_map is None or absmax is None:
        raise InputError(
            "a 4-bit weight is missing its absmax/quant_map; the base checkpoint is incomplete"
        )
    if "nested_blocksize" in state:
        nested_absmax = component("nested_absmax")
        nested_map = component("nested_quant_map")
        if nested_absmax is None or nested_map is None:
            raise InputError(
                "a double-quantized 4-bit weight is missing nested_absmax/nested_quant_map"
            )
        nb = int(state["nested_blocksize"])
        codes = nested_map.float()[absmax.long()]
        scales = nested_absmax.float().repeat_interleave(nb)[: codes.numel()]
        absmax = codes * scales + float(state.get("nested_offset", 0.0))
    else:
        absmax = absmax.float()
    flat = packed.reshape(-1).to(torch.uint8)
    idx = torch.stack([(flat >> 4) & 0xF, flat & 0xF], dim=1).reshape(-1).long()
    n = math.prod(shape)
    values = quant_map.float()[idx][:n]
    pad = (-n) % blocksize
    if pad:
        values = torch.cat([values, values.new_zeros(pad)])
    values = values.view(-1, blocksize) * absmax.view(-1, 1)[: values.shape[0]]
    return values.reshape(-1)[:n].reshape(shape)


# ---------------------------------------------------------------- merge


def merged_weight(base: torch.Tensor, mod: LoraModule, fan_in_fan_out: bool) -> torch.Tensor:
    w = base.float()
    a, b = mod.a.float(), mod.b.float()  # type: ignore[union-attr]
    if mod.embedding:
        # PEFT Embedding: A is [r, num_embeddings], B is [dim, r]; delta = (B @ A)^T.
        delta = (b @ a).T * mod.scale
    else:
        delta = (b @ a) * mod.scale
        if fan_in_fan_out:
            delta = delta.T
    if delta.shape != w.shape:
        raise InputError(
            f"adapter weight for {mod.base_key} has shape {tuple(delta.shape)} but the base has "
            f"{tuple(w.shape)}: the adapter was trained for a different base model"
        )
    w = w + delta
    if mod.magnitude is not None:
        # DoRA: rescale each output row to the learned magnitude (PEFT's merge formula).
        norm = torch.linalg.norm(w, dim=1)
        w = (mod.magnitude.float().reshape(-1) / norm).reshape(-1, 1) * w
    return w


def check_adapter_matches(adapter: Adapter, ckpt: BaseCheckpoint) -> None:
    """Fail before writing anything if the adapter does not fit this base."""
    keys = set(ckpt.weight_map)
    missing = [k for k in adapter.modules if k not in keys]
    if missing:
        raise InputError(
            f"{adapter.path}: the adapter changes {missing[0]} (and {len(missing) - 1} more), "
            f"which {ckpt.dir} does not have: the adapter was trained for a different base model"
        )
    for key, mod in adapter.modules.items():
        state_key = ckpt.quant_state_key(key)
        if state_key is not None:
            state = json.loads(bytes(ckpt.raw(state_key).tolist()).decode("utf-8"))
            shape = tuple(state["shape"])
        else:
            shape = ckpt.shape(key)
        a, b = mod.a.shape, mod.b.shape  # type: ignore[union-attr]
        expected = (a[1], b[0]) if mod.embedding else (b[0], a[1])
        if adapter.config.get("fan_in_fan_out"):
            expected = expected[::-1]
        if expected != shape:
            raise InputError(
                f"{adapter.path}: {key} is {shape} in the base but the adapter expects {expected}: "
                "the adapter was trained for a different base model"
            )


def resolve_dtype(name: str) -> torch.dtype:
    if name == "auto":
        # bf16 unless a GPU is present that lacks it (then fp16, as Unsloth does).
        if torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
            return torch.float16
        return torch.bfloat16
    return DTYPES[name]


def merge_adapter(
    adapter_dir: Path,
    base_dir: Path,
    out_dir: Path,
    dtype: str = "auto",
    max_shard_size: str | int = "2GB",
    on_tensor: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Write the merged model to `out_dir` (which must not exist); return a summary."""
    adapter = load_adapter(adapter_dir)
    ckpt = BaseCheckpoint(base_dir)
    try:
        check_adapter_matches(adapter, ckpt)
        out_dtype = resolve_dtype(dtype)
        limit = parse_size(max_shard_size)
        fan_in_fan_out = bool(adapter.config.get("fan_in_fan_out"))
        tmp = out_dir.with_name(out_dir.name + ".merging")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)

        shard: dict[str, torch.Tensor] = {}
        shard_bytes = 0
        written: list[tuple[str, list[str]]] = []
        total_bytes = 0
        merged_count = 0
        seen: set[str] = set()

        def flush() -> None:
            nonlocal shard, shard_bytes
            if not shard:
                return
            name = f"part-{len(written):05d}.safetensors"
            save_file(shard, str(tmp / name), metadata={"format": "pt"})
            written.append((name, list(shard)))
            shard, shard_bytes = {}, 0

        for key, _ in ckpt.logical_keys():
            seen.add(key)
            if key in adapter.replacements:
                tensor = adapter.replacements[key].float()
            elif key in adapter.modules:
                tensor = merged_weight(ckpt.tensor(key), adapter.modules[key], fan_in_fan_out)
                merged_count += 1
            else:
                tensor = ckpt.tensor(key)
            if tensor.is_floating_point():
                tensor = tensor.to(out_dtype)
            tensor = tensor.contiguous()
            size = tensor.numel() * tensor.element_size()
            if shard and shard_bytes + size > limit:
                flush()
            shard[key] = tensor
            shard_bytes += size
            total_bytes += size
            if on_tensor:
                on_tensor()
        # A replacement for a tensor the base lacks (e.g. an untied lm_head).
        for key, tensor in adapter.replacements.items():
            if key not in seen:
                shard[key] = tensor.to(out_dtype).contiguous()
                total_bytes += tensor.numel() * shard[key].element_size()
        flush()

        weight_map: dict[str, str] = {}
        n = len(written)
        for i, (name, keys) in enumerate(written, 1):
            final = "model.safetensors" if n == 1 else f"model-{i:05d}-of-{n:05d}.safetensors"
            (tmp / name).rename(tmp / final)
            weight_map.update({k: final for k in keys})
        index = {"metadata": {"total_size": total_bytes}, "weight_map": weight_map}
        (tmp / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")

        config = dict(ckpt.config)
        config.pop("quantization_config", None)
        config["dtype"] = str(out_dtype).removeprefix("torch.")
        config.pop("torch_dtype", None)
        embed = next(
            (t for k, t in adapter.replacements.items() if k.endswith("embed_tokens.weight")), None
        )
        if embed is not None:
            config["vocab_size"] = int(embed.shape[0])
        (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        for extra in ("generation_config.json",):
            if (base_dir / extra).is_file():
                shutil.copy2(base_dir / extra, tmp / extra)
        copy_tokenizer(adapter_dir if has_tokenizer(adapter_dir) else base_dir, tmp)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        ckpt.close()
    return {
        "merged_modules": merged_count,
        "replaced_tensors": len(adapter.replacements),
        "dtype": str(out_dtype).removeprefix("torch."),
        "shards": n,
        "bytes": total_bytes,
        "dequantized_4bit": ckpt.quant_method == "bitsandbytes",
    }


def has_tokenizer(path: Path) -> bool:
    return (path / "tokenizer.json").is_file() or (path / "tokenizer.model").is_file()


def copy_tokenizer(src: Path, dst: Path) -> list[str]:
    copied = []
    for name in TOKENIZER_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, dst / name)
            copied.append(name)
    return copied
