"""What every sharded stage shares: the K/N spelling, the sidecar a finished shard leaves
for `kodeio merge`, and the config fingerprint that tells shards of one run apart from
shards of another.

Row-wise stages (each output row depends on its input row only, like `kodeio verify`)
merge by interleaving: shard K holds the rows whose 0-based index is K-1 mod N, in file
order, so row i of shard K was row K-1 + i*N of the single run. The sidecar
(`OUT.shard.json`) records the stage, the shard and how many rows it wrote.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from kodeio.config import StageConfig
from kodeio.files import atomic_write_text

# Keys that never change a stage's results, or differ between shards of one run.
NOT_RESULTS = {"shard", "output", "rejects", "ray", "ray_task_cpus", "ray_retries", "workers",
               "window", "jobs_per_worker", "batch_size", "chunk_seeds"}  # fmt: skip


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


class ScaleOutOptions(StageConfig):
    """The keys every stage with `--shard` and `--ray` shares."""

    shard: str | None = Field(
        None, description="K/N: only the inputs whose index mod N is K-1; join with kodeio merge"
    )
    ray: str | None = Field(
        None, description="run batches as Ray tasks: a cluster address, or auto (attach or start)"
    )
    ray_task_cpus: float = Field(
        1, gt=0, description="CPUs each Ray task reserves; its sandbox gets that many workers"
    )
    ray_retries: int = Field(3, ge=0, description="reruns of a task whose worker or node died")

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


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip(v) for k, v in data.items() if k not in NOT_RESULTS}
    return data


def merge_fingerprint(config: BaseModel) -> str:
    """Digest of the results-changing config, the same for every shard of one run."""
    data = _strip(config.model_dump(mode="json"))
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + ".shard.json")


def write_sidecar(output: Path, stage: str, config: BaseModel, shard: str, rows: int) -> None:
    """Written just before the output is renamed into place, so a finished shard has one."""
    data = {"stage": stage, "shard": shard, "merge_fingerprint": merge_fingerprint(config),
            "rows": rows}  # fmt: skip
    atomic_write_text(sidecar_path(output), json.dumps(data, sort_keys=True) + "\n")
