"""Per-worker cgroups: the memory and task ceilings hold through the real kernel, groups are
cleaned up, and a machine without usable cgroups is told apart from one with them.

This machine has the memory and pids controllers on cgroup v1 (its v2 hierarchy holds only
hugetlb), so the kernel tests run the v1 backend. The v2 backend's file writes are checked on
a stand-in directory tree, which proves what it writes, not what a v2 kernel does with it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kodeio.sandbox import Job, Sandbox, SandboxConfig
from kodeio.sandbox.cgroup import PREFIX, CgroupUnavailable, Limits, Mounts, WorkerCgroups
from kodeio.sandbox.pool import SandboxUnavailable

TOUCH = """
def f(mb):
    b = bytearray(mb * 1024 * 1024)
    for i in range(0, len(b), 4096):
        b[i] = 1
    return len(b) // 2**20
"""
THREADS = """
def f(n):
    import threading
    stop, started = threading.Event(), []
    try:
        for _ in range(n):
            t = threading.Thread(target=stop.wait)
            t.start()
            started.append(t)
    except RuntimeError:  # can't start new thread
        pass
    stop.set()
    for t in started:
        t.join()
    return len(started)
"""
PLUS_ONE = Job(id="after", code="def f(x): return x + 1", entry="f", input="41")


def run(jobs: list[Job], **config: object) -> tuple[list, str]:
    with Sandbox(SandboxConfig(workers=1, timeout=20, **config)) as sb:
        return list(sb.run(jobs)), sb.limits_note


def our_groups() -> list[Path]:
    mounts = Mounts.read()
    found = []
    for own in [*mounts.v1.values(), *([mounts.unified] if mounts.unified else [])]:
        found += list(own.glob(f"{PREFIX}{os.getpid()}.*"))
    return found


def test_memory_cap_stops_a_job_its_address_space_limit_allows():
    # 300 MiB fits the job's RLIMIT_AS (memory_mb 512) but not the worker's 128 MiB group.
    jobs = [Job(id="big", code=TOUCH, entry="f", input="300"), PLUS_ONE]
    capped, note = run(jobs, cgroup="required", memory_mb=512, cgroup_memory_mb=128)
    assert note.startswith("cgroup v") and "128 MiB memory" in note
    assert capped[0].status == "memory" and "cgroup" in capped[0].error
    assert (capped[1].status, capped[1].output) == ("ok", 42)
    # The same job without the group: the rlimit alone lets it through.
    uncapped, note = run(jobs, cgroup="off", memory_mb=512)
    assert note.startswith("no cgroup")
    assert (uncapped[0].status, uncapped[0].output) == ("ok", 300)


def test_task_cap_counts_the_worker_and_every_thread_of_the_job():
    jobs = [Job(id="threads", code=THREADS, entry="f", input="40"), PLUS_ONE]
    free, _ = run(jobs, cgroup="off", memory_mb=2048)
    capped, _ = run(jobs, cgroup="required", memory_mb=2048, max_tasks=8)
    # Unlimited by the group, the job starts all 40 (its address space allows them) ...
    assert free[0].output == 40
    # ... under pids.max 8, bubblewrap, the worker and the job's main thread hold 3 of them.
    assert capped[0].output == 5
    assert (capped[1].status, capped[1].output) == ("ok", 42)


def test_worker_runs_inside_its_group_and_groups_go_away_with_replacements():
    probe = Job(id="pid", code="def f():\n    return open('/proc/self/cgroup').read()", entry="f")
    with Sandbox(SandboxConfig(workers=2, cgroup="required", jobs_per_worker=1)) as sb:
        first_groups = [list(w.cgroups) for w in sb._workers]
        for w in sb._workers:  # started and ready
            procs = [int(p) for g in w.cgroups for p in (g / "cgroup.procs").read_text().split()]
            assert w.proc.pid in procs  # bubblewrap (and so everything below it) is inside
        results = list(sb.run([probe, probe, probe, probe]))
        live = {g for w in sb._workers for g in w.cgroups}
        # Every worker was replaced after one job: the replaced workers' groups are gone.
        assert sb.restarts >= 3
        assert all(not g.exists() for gs in first_groups for g in gs)
        assert live and all(g.exists() for g in live)
    # Inside, the cgroup namespace is rooted at the worker's group: the job sees only "/".
    for r in results:
        assert r.status == "ok"
        assert all(line.endswith(":/") for line in r.output.splitlines()), r.output
    assert our_groups() == []
    assert all(not g.exists() for g in live)


def test_two_sandboxes_open_in_one_process_each_get_groups():
    # e.g. a reward function's long-lived sandbox beside a verify stage's
    with Sandbox(SandboxConfig(workers=1, cgroup="required")) as first:
        with Sandbox(SandboxConfig(workers=1, cgroup="required")) as second:
            assert (
                first.limits_note.startswith("cgroup v") and second.limits_note == first.limits_note
            )
            a, b = first._workers[0].cgroups, second._workers[0].cgroups
            assert a[0].parent != b[0].parent
            assert [r.output for r in second.run([PLUS_ONE])] == [42]
        assert all(not g.exists() for g in b) and all(g.exists() for g in a)
    assert our_groups() == []


def test_groups_left_by_a_dead_host_are_swept():
    own = Mounts.read().v1.get("memory") or Mounts.read().unified
    assert own is not None
    stale = own / f"{PREFIX}4194305"  # above the kernel's largest pid: that host is gone
    (stale / "w0.1").mkdir(parents=True)
    try:
        _, note = run([PLUS_ONE], cgroup="required")
        assert note.startswith("cgroup v")
        assert not stale.exists()
    finally:
        if stale.exists():
            (stale / "w0.1").rmdir()
            stale.rmdir()


def fake_proc(tmp: Path, controllers: str) -> Path:
    proc, fs = tmp / "proc", tmp / "cgroupfs"
    (fs / "user.slice").mkdir(parents=True)
    (fs / "user.slice" / "cgroup.controllers").write_text(controllers + "\n")
    (fs / "user.slice" / "cgroup.subtree_control").write_text("")
    proc.mkdir()
    (proc / "cgroup").write_text("0::/user.slice\n")
    (proc / "mountinfo").write_text(
        f"30 25 0:26 / {fs} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
        "31 25 0:27 / /somewhere/else rw - tmpfs tmpfs rw\n"
    )
    return proc


def test_required_names_why_no_group_can_be_made(tmp_path: Path, monkeypatch):
    proc = fake_proc(tmp_path, "cpu io hugetlb")
    with pytest.raises(CgroupUnavailable, match="offers controllers.*not memory and pids"):
        WorkerCgroups(Limits(memory_bytes=1 << 28, pids=64), Mounts.read(proc))
    # Through the sandbox: one line naming the setting, no traceback, and auto goes on.
    monkeypatch.setattr("kodeio.sandbox.pool.WorkerCgroups", _unavailable)
    with pytest.raises(SandboxUnavailable, match="^cgroup: required, but no memory"):
        Sandbox(SandboxConfig(workers=1, cgroup="required")).start()
    results, note = run([PLUS_ONE], cgroup="auto")
    assert note.startswith("no cgroup (no memory") and results[0].output == 42


def _unavailable(limits: Limits) -> WorkerCgroups:
    raise CgroupUnavailable("no memory controller here")


def test_v2_backend_on_a_stand_in_tree_writes_the_limits(tmp_path: Path):
    proc = fake_proc(tmp_path, "cpu memory pids")
    mounts = Mounts.read(proc)
    own = tmp_path / "cgroupfs" / "user.slice"
    assert mounts.unified == own
    cg = WorkerCgroups(Limits(memory_bytes=300 << 20, pids=96), mounts)
    assert cg.version == "v2"
    assert set((own / "cgroup.subtree_control").read_text().split()) == {"+memory", "+pids"}
    (group,) = cg.create(3)
    assert group.name == "w3.1" and group.parent.parent == own
    assert group.parent.name.startswith(f"{PREFIX}{os.getpid()}.")
    assert (group / "memory.max").read_text() == str(300 << 20)
    assert (group / "pids.max").read_text() == "96"
    argv = cg.enter_argv([group], ["bwrap", "--", "python"])
    assert argv[:2] == ["/bin/sh", "-c"]
    rest = argv[argv.index("kodeio-cgroup") + 1 :]
    assert rest == [str(group / "cgroup.procs"), "--", "bwrap", "--", "python"]
