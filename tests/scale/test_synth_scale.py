"""`kodeio synth run --ray` and `--shard K/N` + `kodeio merge`: the bytes of a plain run.

The model is a real OpenAI-compatible HTTP server on loopback that answers like the synth
tests' scripted model (right, wrong, unparsable, revised), so every trace is known and a
rerun gives the same text. Verification is real (the sandbox), as is the Ray cluster.
"""

from __future__ import annotations

import json
import os
import signal
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import psutil
import pytest

from kodeio.cli import main
from kodeio.llm.base import GenRequest
from kodeio.testing.known_pairs import PAIRS, known_answers, write_pairs
from kodeio.testing.servers import ChatServer

DIE = "# die here"  # a pair whose code holds this kills its Ray worker, once


class KnownAnswers(ChatServer):
    """The scripted model behind HTTP. Armed, it SIGKILLs the client process of the first
    request that shows DIE (a Ray worker mid-task, as an OOM kill would), before replying."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.killed: int | None = None
        self.plain_hits = 0  # requests of the reference run

    def reply(self, request: dict, handler: BaseHTTPRequestHandler) -> str:
        messages = tuple(request["messages"])
        if self.armed and self.killed is None and any(DIE in m["content"] for m in messages):
            self.killed = _client_pid(handler.client_address)
            assert self.killed not in (None, os.getpid()), "would not kill the test itself"
            os.kill(self.killed, signal.SIGKILL)
        gen = GenRequest("", messages, 1, request["max_tokens"], 0.0, 1.0, request["seed"])
        return known_answers(gen, 0)


def _client_pid(address: tuple[str, int]) -> int | None:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and (conn.laddr.ip, conn.laddr.port) == tuple(address[:2]):
            return conn.pid
    return None


def _pairs(path: Path) -> Path:
    """The fixture's three pairs in three copies each (nine pairs, each with prompts of its
    own: a comment tells the copies apart), one marked to die."""
    rows = [{**p, "id": f"{p['id']}-{i}", "code": p["code"] + f"# copy {i}\n"}
            for i in range(3) for p in PAIRS]  # fmt: skip
    rows[4] = {**rows[4], "code": rows[4]["code"] + DIE + "\n"}
    return write_pairs(path, rows)


@pytest.fixture(scope="module")
def model() -> KnownAnswers:
    with KnownAnswers() as server:
        yield server


def _synth(pairs: Path, out: Path, model: KnownAnswers, *extra: str) -> int:
    return main(["synth", "run", "--pairs", str(pairs), "-o", str(out), "--backend", "openai",
                 "--model", "known", "--base-url", model.base_url, "--concurrency", "4",
                 "--set", "sandbox.workers=1", *extra])  # fmt: skip


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, model: KnownAnswers) -> tuple[Path, bytes]:
    tmp = tmp_path_factory.mktemp("synth")
    pairs = _pairs(tmp / "io.jsonl")
    hits = model.hits
    assert _synth(pairs, tmp / "plain.jsonl", model) == 0
    model.plain_hits = model.hits - hits
    return pairs, (tmp / "plain.jsonl").read_bytes()


def test_reference_traces_are_in_pair_order(plain: tuple[Path, bytes]) -> None:
    pairs, reference = plain
    rows = [json.loads(line) for line in reference.decode().splitlines()]
    pair_ids = [json.loads(line)["id"] for line in pairs.read_text().splitlines()]
    assert [r["pair_id"] for r in rows] == [p for p in pair_ids for _ in range(2)]
    assert [r["mode"] for r in rows[:2]] == ["output", "input"]
    statuses = {r["status"] for r in rows}
    assert {"verified_first", "verified_revised", "failed"} <= statuses


def test_synth_on_ray_survives_a_killed_worker_with_the_bytes_of_a_plain_run(
    ray_cluster, plain: tuple[Path, bytes], model: KnownAnswers, tmp_path: Path
) -> None:
    pairs, reference = plain
    out = tmp_path / "ray.jsonl"
    model.armed = True
    try:
        code = _synth(pairs, out, model, "--ray", ray_cluster.address, "--set", "chunk_pairs=2")
    finally:
        model.armed = False
    assert model.killed is not None, "no worker was killed; the test proves nothing"
    assert code == 0
    assert out.read_bytes() == reference
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob("*.gen.jsonl"))


def test_a_run_cut_short_finishes_on_ray_with_the_same_bytes(
    ray_cluster, plain: tuple[Path, bytes], model: KnownAnswers, tmp_path: Path
) -> None:
    """Four pairs done on one machine, one of their traces lost: --ray does only the rest."""
    pairs, reference = plain
    out = tmp_path / "traces.jsonl"
    assert _synth(pairs, out, model, "--set", "max_pairs=4") == 0
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:5] + lines[6:]))  # pair 3's input trace is gone
    hits = model.hits
    assert _synth(pairs, out, model, "--ray", ray_cluster.address, "--set", "chunk_pairs=3") == 0
    assert out.read_bytes() == reference
    assert 0 < model.hits - hits < model.plain_hits  # pairs 1, 2 and 4 were not asked again


def test_synth_shards_merge_into_the_bytes_of_a_plain_run(
    plain: tuple[Path, bytes], model: KnownAnswers, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    pairs, reference = plain
    shards = [tmp_path / f"s{k}.jsonl" for k in (1, 2, 3, 4)]
    for k, shard in enumerate(shards, 1):
        assert _synth(pairs, shard, model, "--shard", f"{k}/4") == 0
    merged = tmp_path / "merged.jsonl"
    assert main(["merge", *map(str, shards[::-1]), "-o", str(merged)]) == 0
    assert merged.read_bytes() == reference

    # A shard of another config (one revision fewer) and a missing shard: one line, no file.
    other = tmp_path / "other4.jsonl"
    assert _synth(pairs, other, model, "--shard", "4/4", "--revisions", "0") == 0
    capsys.readouterr()
    bad = tmp_path / "bad.jsonl"
    for inputs, message in (
        ([*shards[:3], other], "fingerprints differ"),
        (shards[:3], "shard(s) 4 of 4 missing"),
    ):
        assert main(["merge", *map(str, inputs), "-o", str(bad)]) == 1
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
        assert not bad.exists()


def test_ray_with_an_in_process_engine_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    pairs = write_pairs(tmp_path / "io.jsonl")
    args = ["synth", "run", "--pairs", str(pairs), "-o", str(tmp_path / "t.jsonl"),
            "--backend", "vllm", "--ray", "auto"]  # fmt: skip
    assert main(args) != 0
    err = capsys.readouterr().err
    assert "--ray runs backend openai, not vllm" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [pairs]
