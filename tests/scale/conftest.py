"""A Ray cluster on loopback for the whole session: a head plus one extra worker node.

Both are `ray start --block` children of the test process in their own process group, so
teardown kills exactly this cluster (never other Ray clusters on the machine). Each node
offers one CPU, which keeps the area cheap on a 2-core box while still spreading tasks
over two raylets.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import ray

REPO = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).with_name("ray"))
DIE_MARKER_ENV = "KODEIO_TEST_DIE_MARKER"


@dataclass
class Cluster:
    address: str
    die_marker: Path  # the dying unifier kills its Ray worker once, then leaves this file


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [RAY, "start", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "1",
         "--object-store-memory", str(96 * 1024 * 1024), "--disable-usage-stats", *args],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # ray start --block stops its node on SIGTERM
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def ray_cluster(
    tmp_path_factory: pytest.TempPathFactory, free_port: Callable[[], int]
) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("ray")
    port = free_port()
    address = f"127.0.0.1:{port}"
    marker = tmp / "worker-killed"
    # Workers import the test unifier (scale.dying_unifier) from tests/; the marker path tells it where.
    # Loopback only, so no token auth: Ray 2.60 turns it on by itself when it finds
    # ~/.ray/auth_token (any earlier `ray.init()` leaves one), and the cluster and this
    # driver must agree. Pinned for both, so the test does not depend on the home dir.
    saved_auth = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]),
        DIE_MARKER_ENV: str(marker),
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    # A short temp dir: Ray's socket paths must fit in 107 bytes.
    temp_dir = Path("/tmp") / f"kodeio-ray-{os.getpid()}"
    head = _start(["--head", "--port", str(port), "--include-dashboard", "false",
                   "--temp-dir", str(temp_dir)], env, tmp / "head.log")  # fmt: skip
    procs = [head]
    try:
        _wait_for_port(port, head, tmp / "head.log")
        procs.append(_start(["--address", address], env, tmp / "worker.log"))
        ray.init(address=address, log_to_driver=False, configure_logging=False)
        _wait_for_nodes(2, procs, tmp)
        yield Cluster(address, marker)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for proc in reversed(procs):
            _stop(proc)
        shutil.rmtree(temp_dir, ignore_errors=True)
        if saved_auth is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved_auth


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    # A startup deadline, not a timed assertion: it only bounds a hung start.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ray head exited: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"ray head did not listen on {port}: {log.read_text()[-2000:]}")


def _wait_for_nodes(n: int, procs: list[subprocess.Popen[bytes]], tmp: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if sum(1 for node in ray.nodes() if node["Alive"]) >= n:
            return
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.5)
    pytest.fail(f"the worker node did not join: {(tmp / 'worker.log').read_text()[-2000:]}")
