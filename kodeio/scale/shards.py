"""What every sharded stage shares: the K/N spelling, the sidecar a finished shard leaves
for `kodeio merge`, and the config fingerprint that tells shards of one run apart from
shards of another.

Row-wise stages (each output row depends on its input row only, like `kodeio verify`)
merge by interleaving: shard K holds the rows whose 0-based index is K-1 mod N, in file
order, so row i of shard K was row K-1 + i*N of the single run. A stage that writes a fixed
`group` of rows per input (`synth run`: one trace per mode and sample of a pair)
interleaves groups instead. The sidecar (`OUT.shard.json`) records the stage, the shard,
how many rows it wrote, and whatever else the stage's merge needs (its `meta`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field, field_validator

from kodeio.config import StageConfig
from kodeio.files import atomic_write_text

# Keys that never change a stage's results, or differ between shards of one run.
NOT_RESULTS = {"shard", "output", "rejects", "ray", "ray_task_cpus", "ray_retries", "workers",
               "window", "jobs_per_worker", "batch_size", "chunk_seeds", "chunk_pairs"}  # fmt: skip


def parse_shard(text: str) -> tuple[int, int]:
    """'K/N' (1-based K) -> (K-1, N)."""
    try:
        k_text, n_text = text.split("/")
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise ValueError(f"shard {text!r}: expected K/N, e.g. 2/8") from None
    if n < 1 or not 1 <= k <= n:
        raise ValueError(f"shard {text!r}: need 1 <= K <= N")
    return k - 1, n


class ShardOptions(StageConfig):
    """The `shard` key of every stage with `--shard K/N`."""

    # Dotted keys of this stage that never change results (beyond NOT_RESULTS), e.g. the
    # replica list of a model server: shards of one run may set them differently.
    not_results: ClassVar[frozenset[str]] = frozenset()

    shard: str | None = Field(
        None, description="K/N: only the inputs whose index mod N is K-1; join with kodeio merge"
    )

    @field_validator("shard")
    @classmethod
    def _shard(cls, value: str | None) -> str | None:
        if value is not None:
            parse_shard(value)
        return value

    @property
    def shard_index(self) -> tuple[int, int]:
        """(K-1, N); (0, 1) when not sharded."""
        return parse_shard(self.shard) if self.shard else (0, 1)


class ScaleOutOptions(ShardOptions):
    """The keys every stage with `--shard` and `--ray` shares."""

    ray: str | None = Field(
        None, description="run batches as Ray tasks: a cluster address, or auto (attach or start)"
    )
    ray_task_cpus: float = Field(
        1, gt=0, description="CPUs each Ray task reserves; its sandbox gets that many workers"
    )
    ray_retries: int = Field(3, ge=0, description="reruns of a task whose worker or node died")


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip(v) for k, v in data.items() if k not in NOT_RESULTS}
    return data


def merge_fingerprint(config: BaseModel) -> str:
    """Digest of the results-changing config, the same for every shard of one run."""
    data = _strip(config.model_dump(mode="json"))
    for dotted in getattr(config, "not_results", ()):
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + ".shard.json")


def write_sidecar(
    output: Path, stage: str, config: BaseModel, shard: str, rows: int, **meta: Any
) -> None:
    """Written just before the output is renamed into place, so a finished shard has one.

    `meta` is what the stage's merge needs besides the rows (`group`, per-file counts, ...).
    """
    data = {"stage": stage, "shard": shard, "merge_fingerprint": merge_fingerprint(config),
            "rows": rows, **meta}  # fmt: skip
    atomic_write_text(sidecar_path(output), json.dumps(data, sort_keys=True) + "\n")
