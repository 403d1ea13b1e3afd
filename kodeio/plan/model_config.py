"""A model's shape, from its config.json: a local directory, the HF cache, kodeio's shipped
copies (kodeio/plan/model_configs/), or the Hub, in that order.

Only decoder-only transformers with the Llama/Qwen2 layout are counted here (q/k/v/o
projections, a gated MLP, untied or tied embeddings); that covers the recipes' models.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kodeio.errors import ConfigError

SHIPPED = Path(__file__).resolve().parent / "model_configs"
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}


@dataclass(frozen=True)
class ModelShape:
    name: str
    source: str
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    tied: bool
    dtype: str
    max_positions: int
    qkv_bias: bool
    quant: dict[str, Any] = field(default_factory=dict)

    def projection_shapes(self) -> dict[str, tuple[int, int]]:
        """(in, out) features of each projection in one layer."""
        h, q, kv, i = (
            self.hidden,
            self.heads * self.head_dim,
            self.kv_heads * self.head_dim,
            (self.intermediate),
        )
        return {
            "q_proj": (h, q),
            "k_proj": (h, kv),
            "v_proj": (h, kv),
            "o_proj": (q, h),
            "gate_proj": (h, i),
            "up_proj": (h, i),
            "down_proj": (i, h),
        }

    @property
    def linear_per_layer(self) -> int:
        return sum(a * b for a, b in self.projection_shapes().values())

    @property
    def linear_params(self) -> int:
        return self.layers * self.linear_per_layer

    @property
    def embedding_params(self) -> int:
        """Input embeddings plus the LM head (counted once when tied)."""
        return self.vocab * self.hidden * (1 if self.tied else 2)

    @property
    def other_params(self) -> int:
        """Norms (two per layer and the final one) and the q/k/v biases (Qwen2)."""
        bias = (self.heads + 2 * self.kv_heads) * self.head_dim if self.qkv_bias else 0
        return self.layers * (2 * self.hidden + bias) + self.hidden

    @property
    def total_params(self) -> int:
        return self.linear_params + self.embedding_params + self.other_params

    @property
    def dtype_bytes(self) -> int:
        return DTYPE_BYTES.get(self.dtype, 2)

    @property
    def quant_method(self) -> str | None:
        method = self.quant.get("quant_method")
        return str(method) if method else None


def shape_from_config(name: str, source: str, cfg: dict[str, Any]) -> ModelShape:
    """Read the keys the plan needs; a missing one is named with the file it came from."""
    cfg = cfg.get("text_config", cfg) if "hidden_size" not in cfg else cfg

    def need(key: str) -> int:
        if not isinstance(cfg.get(key), int):
            raise ConfigError(f"{source}: config.json has no integer '{key}'")
        return int(cfg[key])

    hidden, heads = need("hidden_size"), need("num_attention_heads")
    head_dim = cfg.get("head_dim") or hidden // heads
    model_type = str(cfg.get("model_type", ""))
    dtype = str(cfg.get("torch_dtype") or cfg.get("dtype") or "bfloat16")
    return ModelShape(
        name=name,
        source=source,
        hidden=hidden,
        layers=need("num_hidden_layers"),
        heads=heads,
        kv_heads=int(cfg.get("num_key_value_heads") or heads),
        head_dim=int(head_dim),
        intermediate=need("intermediate_size"),
        vocab=need("vocab_size"),
        tied=bool(cfg.get("tie_word_embeddings", False)),
        dtype=dtype,
        max_positions=int(cfg.get("max_position_embeddings") or 0),
        qkv_bias=bool(cfg.get("attention_bias", model_type == "qwen2")),
        quant=dict(cfg.get("quantization_config") or {}),
    )


def shipped_path(model_id: str) -> Path:
    return SHIPPED / (model_id.replace("/", "--") + ".json")


def find_config(model: str, offline: bool = True) -> tuple[dict[str, Any], str]:
    """(config dict, where it came from) for a directory, a hub id in the cache, a shipped copy,
    or (offline=False) the Hub. One ConfigError line when none has it."""
    local = Path(model).expanduser()
    if local.is_dir():
        path = local / "config.json"
        if not path.is_file():
            raise ConfigError(f"{local}: no config.json in this model directory")
        return _read(path), str(path)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", model):
        raise ConfigError(f"model {model!r}: not a directory and not a hub id (owner/name)")
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model, "config.json")
    except Exception:  # a broken cache is the same as no cache here
        cached = None
    if isinstance(cached, str) and Path(cached).is_file():
        return _read(Path(cached)), f"HF cache ({cached})"
    shipped = shipped_path(model)
    if shipped.is_file():
        return _read(shipped), f"kodeio's copy ({shipped.name})"
    if offline:
        raise ConfigError(
            f"model {model}: config.json is not in the HF cache or kodeio's copies, and the plan "
            "is offline (HF_HUB_OFFLINE); download it or pass a local model directory"
        )
    return _read(_download(model)), f"Hub ({model})"


def _download(model: str) -> Path:
    """config.json from the Hub; without a route to it, one line at once rather than the
    client's five logged retries."""
    import logging
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants, hf_hub_download

    missing = f"model {model}: config.json is not in the HF cache or kodeio's copies, and "
    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        raise ConfigError(missing + f"{host} cannot be resolved (offline?)") from None
    quiet = logging.getLogger("huggingface_hub")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        return Path(hf_hub_download(model, "config.json"))
    except Exception as exc:
        raise ConfigError(
            missing + f"the Hub did not give it ({type(exc).__name__}); pass a local model "
            "directory"
        ) from None
    finally:
        quiet.setLevel(level)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable JSON config ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def load_shape(model: str, offline: bool = True) -> ModelShape:
    cfg, source = find_config(model, offline)
    return shape_from_config(model, source, cfg)
