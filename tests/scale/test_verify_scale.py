"""`kodeio verify --ray` and `--shard K/N` + `kodeio merge`: the bytes of a plain run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kodeio.cli import main
from kodeio.files import write_jsonl


def _predictions(tmp: Path, verify_rows: Callable[[], list[dict]]) -> Path:
    """The verify CLI test's rows, twice over under new ids: 12 rows, 7 executions."""
    rows = verify_rows()
    rows += [{**r, "id": r["id"] + "-again"} for r in rows]
    pred = tmp / "pred.jsonl"
    write_jsonl(pred, rows)
    return pred


def _verify(pred: Path, out: Path, *extra: str) -> None:
    args = ["verify", str(pred), "-o", str(out), "--workers", "1", "--timeout", "2", *extra]
    assert main(args) == 0


@pytest.fixture(scope="module")
def plain(
    tmp_path_factory: pytest.TempPathFactory, verify_rows: Callable[[], list[dict]]
) -> tuple[Path, bytes]:
    tmp = tmp_path_factory.mktemp("verify")
    pred = _predictions(tmp, verify_rows)
    _verify(pred, tmp / "plain.jsonl")
    return pred, (tmp / "plain.jsonl").read_bytes()


def test_verify_on_ray_gives_the_bytes_of_a_plain_run(
    ray_cluster, plain: tuple[Path, bytes], tmp_path: Path
) -> None:
    pred, reference = plain
    out = tmp_path / "ray.jsonl"
    _verify(pred, out, "--ray", ray_cluster.address, "--set", "batch_size=5")
    assert out.read_bytes() == reference


def test_verify_shards_merge_into_the_bytes_of_a_plain_run(
    plain: tuple[Path, bytes], tmp_path: Path
) -> None:
    pred, reference = plain
    shards = [tmp_path / f"s{k}.jsonl" for k in (1, 2, 3, 4, 5)]
    for k, shard in enumerate(shards, 1):
        _verify(pred, shard, "--shard", f"{k}/5")
    merged = tmp_path / "merged.jsonl"
    assert main(["merge", *map(str, shards[::-1]), "-o", str(merged)]) == 0
    assert merged.read_bytes() == reference
    assert main(["merge", *map(str, shards[:4]), "-o", str(merged.with_suffix(".x"))]) == 1
    assert not merged.with_suffix(".x").exists()
