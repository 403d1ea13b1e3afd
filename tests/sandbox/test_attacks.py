"""Attacks on the sandbox boundary (docs/sandbox.md, threat model), one test per class.

Every attack runs through the real `Sandbox` (or the real CLI) between normal jobs, in the
same worker, and each test checks that every normal job still got its own exact result,
once, in order, and that the host is as it was afterwards: no worker process left, the
same files in /dev/shm, no System V segment, the same core_pattern.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kodeio.sandbox import Job, Sandbox, SandboxConfig
from kodeio.sandbox.pool import _tmp_mounts
from kodeio.sandbox.values import NotALiteral, parse_literal
from kodeio.synth.io.inputs import reference_matches

ROOT = os.geteuid() == 0
JOB_UID = SandboxConfig().host_uid + 1 if ROOT else os.getuid()  # worker 0's jobs


def _normal(i: int) -> Job:
    return Job(id=f"n{i}", code="def f(x):\n    return [x, x * x, str(x)]", entry="f", input=str(i))


def _attack(name: str, body: str, **kw) -> Job:
    return Job(id=f"attack-{name}", code=textwrap.dedent(body), entry="f", **kw)


def _host_state(keep: list[int] = ()) -> dict:
    """Workers (other than `keep`, a sandbox some other test left open), shared memory and
    the core pattern."""

    def workers() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    cmd = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if b"kodeio-sandbox/worker.py" in cmd:
                    found.append(int(entry.name))
        return found

    deadline = time.monotonic() + 5
    while set(workers()) - set(keep) and time.monotonic() < deadline:
        time.sleep(0.05)  # killed workers take a moment to go
    return {
        "workers": sorted(set(workers()) - set(keep)),
        "dev_shm": sorted(os.listdir("/dev/shm")),
        "sysv_shm": Path("/proc/sysvipc/shm").read_text().splitlines()[1:],
        "core_pattern": Path("/proc/sys/kernel/core_pattern").read_text(),
    }


@pytest.fixture
def host_unchanged():
    before = _host_state()
    yield
    assert _host_state(keep=before["workers"]) == {**before, "workers": []}


def _run_between_normals(attacks: list[Job], config: SandboxConfig | None = None, normals=3):
    """Each attack with normal jobs before and after it; returns the attack results."""
    jobs: list[Job] = []
    i = 0
    for attack in attacks:
        for _ in range(normals):
            jobs.append(_normal(i))
            i += 1
        jobs.append(attack)
    jobs += [_normal(i + k) for k in range(normals)]
    with Sandbox(config or SandboxConfig(workers=1)) as sb:
        results = list(sb.run(jobs))
    assert [r.id for r in results] == [j.id for j in jobs]
    attack_results = {}
    for job, result in zip(jobs, results, strict=True):
        if job.id.startswith("n"):
            x = int(job.input)  # type: ignore[arg-type]
            assert (result.status, result.output) == ("ok", [x, x * x, str(x)]), result
        else:
            attack_results[job.id] = result
    return attack_results


# ---- the protocol: other jobs' inputs and results --------------------------------------


def test_jobs_cannot_forge_steal_or_shift_other_results(host_unchanged):
    forged = json.dumps({"id": "n4", "seq": 4, "status": "ok", "output": 666}) + "\n"
    writes = _attack(
        "write-protocol",
        f"""
        import os
        LINE = {forged!r}
        def f():
            hits = []
            for pid in ("1", str(os.getppid()), "self"):
                for fd in range(16):
                    try:
                        with open(f"/proc/{{pid}}/fd/{{fd}}", "w") as fh:
                            fh.write(LINE)
                        hits.append(f"{{pid}}/{{fd}}")
                    except OSError:
                        pass
            for fd in range(256):
                if fd != 3:  # its own result file: forging itself is its own business
                    try:
                        os.write(fd, LINE.encode())
                        hits.append(fd)
                    except OSError:
                        pass
            return hits
        """,
    )
    reads = _attack(
        "read-protocol",
        """
        import os
        def f():
            got = []
            for pid in ("1", str(os.getppid())):
                for fd in (0, 1):
                    try:
                        with open(f"/proc/{pid}/fd/{fd}", "rb", buffering=0) as fh:
                            got.append(fh.read(4096).decode("utf-8", "replace"))
                    except OSError as exc:
                        got.append(type(exc).__name__)
            return got
        """,
    )
    results = _run_between_normals([writes, reads, writes])
    for key in ("attack-write-protocol",):
        hits = results[key].output
        # Only its own fds (null stdin, the stdout and result files) can be written; none of
        # them is a pipe to anyone.
        assert all(h in ("self/0", "self/1", "self/2", "self/3", 0, 1, 2) for h in hits), hits
    assert results["attack-read-protocol"].output == ["PermissionError"] * 4


def test_a_job_cannot_reach_pid_1_memory_or_leave_a_process(host_unchanged):
    job = _attack(
        "proc-mem",
        """
        import os
        def f():
            out = {}
            for pid in ("1", str(os.getppid())):
                for name in ("mem", "environ", "maps", "fd", "oom_score_adj"):
                    path = f"/proc/{pid}/{name}"
                    try:
                        if name == "fd":
                            os.listdir(path)
                        else:
                            open(path, "r+b" if name in ("mem", "oom_score_adj") else "rb").close()
                        out[path] = "open"
                    except OSError as exc:
                        out[path] = type(exc).__name__
            return out
        """,
    )
    out = _run_between_normals([job])["attack-proc-mem"].output
    assert out and set(out.values()) == {"PermissionError"}, out


# ---- never host root ---------------------------------------------------------------------


def test_jobs_run_as_an_unprivileged_host_uid_without_capabilities(host_unchanged):
    job = _attack(
        "root",
        """
        def f():
            status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
            out = {k: status[k].split() for k in ("Uid", "Gid", "CapPrm", "CapEff", "CapAmb")}
            for path, mode in (("/proc/sys/kernel/core_pattern", "w"),
                               ("/proc/sys/vm/drop_caches", "w"),
                               ("/proc/sysrq-trigger", "w"),
                               ("/proc/slabinfo", "r")):
                try:
                    open(path, mode).close()
                    out[path] = "open"
                except OSError as exc:
                    out[path] = type(exc).__name__
            return out
        """,
    )
    out = _run_between_normals([job])["attack-root"].output
    assert out["Uid"] == [str(JOB_UID)] * 4
    if ROOT:
        assert out["Gid"] == [str(JOB_UID)] * 4
    assert out["CapPrm"] == out["CapEff"] == out["CapAmb"] == ["0000000000000000"]
    for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches", "/proc/slabinfo"):
        assert out[path] in ("PermissionError", "FileNotFoundError", "OSError"), (path, out)


def test_thread_bombs_stop_at_rlimit_nproc(host_unchanged):
    job = _attack(
        "threads",
        """
        import threading, time
        def f():
            n = 0
            stop = threading.Event()
            try:
                for _ in range(500):
                    threading.Thread(target=stop.wait, daemon=True).start()
                    n += 1
            except RuntimeError:
                pass
            stop.set()
            return n
        """,
    )
    # Enough address space for 64 thread stacks, so that RLIMIT_NPROC is what stops them.
    config = SandboxConfig(workers=1, memory_mb=4096)
    started = _run_between_normals([job], config=config)["attack-threads"].output
    # RLIMIT_NPROC is 64 for the job uid, which only this job holds: its main thread and 63.
    assert started == 63


# ---- the worker and the next job -----------------------------------------------------------


TAMPER = {
    "setpriority": "os.setpriority(os.PRIO_PROCESS, os.getppid(), 19)",
    "setpriority-user": "os.setpriority(os.PRIO_USER, 0, 19)",
    "affinity": "os.sched_setaffinity(os.getppid(), {0})",
    "scheduler": "os.sched_setscheduler(os.getppid(), os.SCHED_IDLE, os.sched_param(0))",
    "prlimit": "resource.prlimit(os.getppid(), resource.RLIMIT_FSIZE, (1, 1))",
    "prlimit-pid1": "resource.prlimit(1, resource.RLIMIT_NOFILE, (3, 3))",
    "f-setown": "r, w = os.pipe(); fcntl.fcntl(r, fcntl.F_SETOWN, os.getppid())",
    "f-setsig": "r, w = os.pipe(); fcntl.fcntl(r, 10, 9)",
    "sysv-shm": "ctypes.CDLL(None).shmget(0, 1 << 20, 0o1000 | 0o600)",
    "sysv-sem": "ctypes.CDLL(None).semget(0, 1, 0o1000 | 0o600)",
}


@pytest.mark.parametrize("name", sorted(TAMPER))
def test_calls_aimed_at_the_worker_are_denied(name, host_unchanged):
    job = _attack(
        name,
        f"""
        import ctypes, fcntl, os, resource
        def f():
            {TAMPER[name]}
            return "done"
        """,
    )
    attack = Job(id=job.id, code=job.code, entry="f")
    # 40 normal jobs after the attack, in the same worker: none may fail.
    jobs = [attack, *(_normal(i) for i in range(40))]
    with Sandbox(SandboxConfig(workers=1)) as sb:
        results = list(sb.run(jobs))
        restarts = sb.restarts
    assert results[0].status == "blocked", results[0]
    assert [(r.status, r.output) for r in results[1:]] == [
        ("ok", [i, i * i, str(i)]) for i in range(40)
    ]
    assert restarts == 0


def test_tmp_and_dev_shm_are_empty_for_the_next_job_whatever_the_modes(host_unchanged):
    plant = _attack(
        "plant",
        """
        import os
        def f():
            out = []
            for call in (lambda: os.chmod("/tmp", 0o555), lambda: os.chmod("/dev/shm", 0o555)):
                try:
                    call()
                    out.append("chmod")
                except OSError as exc:
                    out.append(type(exc).__name__)
            os.makedirs("/tmp/plant/deep")
            open("/tmp/plant/deep/secret", "w").write("left for the next job")
            os.chmod("/tmp/plant/deep", 0)
            os.chmod("/tmp/plant", 0o500)
            os.symlink("/proc/self", "/tmp/link")
            open("/dev/shm/plant", "wb").write(b"x" * 4096)
            os.mkdir("/dev/shm/dir")
            os.chmod("/dev/shm/dir", 0)
            return out
        """,
    )
    look = _attack(
        "look",
        """
        import os
        def f():
            return [sorted(os.listdir("/tmp")), os.listdir("/dev/shm"), oct(os.stat("/tmp").st_mode)]
        """,
    )
    results = _run_between_normals([plant, look, plant, look], normals=1)
    # Only the mount points of a checkout or venv that lives under /tmp (CI clones) remain.
    assert results["attack-look"].output == [sorted(_tmp_mounts()), [], "0o41777"]
    if ROOT:  # /tmp and /dev/shm are root's: a job can neither chmod them nor replace them
        assert results["attack-plant"].output == ["PermissionError", "PermissionError"]


def test_dev_shm_and_tmp_are_size_capped_and_freed(host_unchanged):
    fill = _attack(
        "fill",
        """
        def f():
            written = {}
            for path in ("/dev/shm/fill", "/tmp/fill"):
                n = 0
                try:
                    with open(path, "wb") as fh:
                        for _ in range(512):
                            fh.write(b"\\0" * (1 << 20))
                            fh.flush()
                            n += 1
                except OSError as exc:
                    written[path] = [n, type(exc).__name__]
            return written
        """,
        timeout=20,
    )
    config = SandboxConfig(workers=1, shm_mb=16, tmp_mb=32, max_file_bytes=600 << 20)
    out = _run_between_normals([fill, fill], config=config, normals=1)["attack-fill"].output
    # The tmpfs caps stop the writes (ENOSPC), and the second run could fill them again:
    # the first one's data was wiped in between.
    assert out["/dev/shm/fill"][1] == out["/tmp/fill"][1] == "OSError"
    assert 8 <= out["/dev/shm/fill"][0] <= 16 and 16 <= out["/tmp/fill"][0] <= 32, out


# ---- hostile values ---------------------------------------------------------------------


def test_hostile_reprs_cannot_crash_host_parsing(host_unchanged):
    unary = _attack(
        "unary",
        """
        class Evil:
            def __repr__(self):
                return "-" * 100000 + "1"
        def f():
            return Evil()
        """,
    )
    deep = _attack(
        "deep",
        """
        def f():
            x = []
            for _ in range(900):
                x = [x]
            return x
        """,
    )
    results = _run_between_normals([unary, deep])
    text = results["attack-unary"].output_repr
    assert results["attack-unary"].status == "ok" and len(text) == 100001
    with pytest.raises(NotALiteral):
        parse_literal(text)
    assert reference_matches(("repr", "1"), None, text) is False
    assert reference_matches(("json", 1), None, text) is False
    # Nested past what JSON output allows: no JSON value, and its repr parses or refuses.
    assert results["attack-deep"].output is None
    try:
        parse_literal(results["attack-deep"].output_repr or "")
    except NotALiteral:
        pass


FORGED_RESULTS = {
    "not-json": b"{nope",
    "not-an-object": b"[1, 2, 3]",
    "unknown-status": b'{"status": "pwned", "output": 1}',
    "wrong-types": b'{"status": "ok", "output_repr": 5, "error": ["x"]}',
    # Parses in the worker, but deeper than any output may be: kept as no JSON value.
    "deep": b'{"status": "ok", "output_is_json": true, "output": ' + b"[" * 500 + b"]" * 500 + b"}",
    # Too deep for the worker's own parser: no result at all.
    "deeper": b'{"status": "ok", "output": ' + b"[" * 50000 + b"]" * 50000 + b"}",
    "other-job": b'{"status": "ok", "id": "n0", "seq": 0, "output": 666, "output_is_json": true}',
}


def test_a_forged_own_result_message_is_checked_before_the_host_sees_it(host_unchanged):
    attacks = [
        _attack(
            name,
            f"""
            import os
            def f():
                os.write(3, {payload!r})
                os._exit(0)
            """,
        )
        for name, payload in FORGED_RESULTS.items()
    ]
    with Sandbox(SandboxConfig(workers=1)) as sb:
        jobs = [j for a in attacks for j in (a, _normal(0))]
        results = list(sb.run(jobs))
        restarts = sb.restarts
    assert [r.id for r in results] == [j.id for j in jobs]
    for result, attack in zip(results[::2], FORGED_RESULTS, strict=True):
        if attack in ("other-job",):
            # Its own result, as forged: but for its own id, never another job's row.
            assert result.id == "attack-other-job" and result.status == "ok"
        elif attack == "deep":
            assert result.status == "ok" and result.output is None and not result.output_is_json
        else:
            assert result.status == "no_result", (attack, result)
    assert all((r.status, r.output) == ("ok", [0, 0, "0"]) for r in results[1::2])
    assert restarts == 0  # the worker filtered the messages; nothing reached the protocol


# ---- the host side of the protocol, against a worker that misbehaves ---------------------

FAKE_WORKER = """
import json, sys
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    job = json.loads(line)
    answer = {"id": job["id"], "seq": job["seq"], "status": "ok", "output": job["id"]}
    kind = job["id"].split("-")[0]
    if kind == "garbage":
        sys.stdout.write("{not json\\n")
    elif kind == "shifted":
        sys.stdout.write(json.dumps(dict(answer, seq=job["seq"] + 1)) + "\\n")
    elif kind == "long":
        sys.stdout.write("x" * (8 << 20))
    elif kind == "badtype":
        sys.stdout.write(json.dumps(dict(answer, stdout=["x"])) + "\\n")
    elif kind == "deep":
        sys.stdout.write('{"a": ' + "[" * 100000 + "]" * 100000 + "}\\n")
    elif kind == "twice":
        sys.stdout.write(json.dumps(answer) + "\\n" + json.dumps(answer) + "\\n")
    else:
        sys.stdout.write(json.dumps(answer) + "\\n")
    sys.stdout.flush()
"""


@pytest.mark.parametrize("kind", ["garbage", "shifted", "long", "badtype", "deep", "twice"])
def test_the_host_replaces_a_worker_that_breaks_the_protocol(kind, tmp_path, monkeypatch):
    import kodeio.sandbox.pool as pool

    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER)
    monkeypatch.setattr(
        pool, "worker_command", lambda config, index=0: ([sys.executable, str(script)], {})
    )
    jobs = [
        Job(id=name, code="", entry="f")
        for name in ("ok-0", f"{kind}-1", "ok-2", "ok-3", "ok-4", "ok-5")
    ]
    with Sandbox(SandboxConfig(workers=1, isolation="process")) as sb:
        results = list(sb.run(jobs))
        restarts = sb.restarts
    assert [r.id for r in results] == [j.id for j in jobs]
    by_id = {r.id: r for r in results}
    if kind == "twice":
        # Its own job's answer is taken; the extra line arrives with no job queued, or as
        # an answer to the next job with the wrong seq: either way that worker goes.
        assert by_id["twice-1"].status == "ok"
    else:
        assert by_id[f"{kind}-1"].status == "crashed"
        assert "bad message" in (by_id[f"{kind}-1"].error or "")
    ok = [r for r in results if r.id.startswith("ok")]
    assert all((r.status, r.output) == ("ok", r.id) for r in ok if r.status == "ok")
    assert sum(r.status == "ok" for r in ok) >= 4  # at most the job queued behind is lost
    assert restarts >= 1


def test_the_cli_gives_every_normal_job_its_own_result_once(tmp_path, host_unchanged):
    jobs = [_normal(i) for i in range(6)]
    jobs.insert(
        2,
        _attack(
            "cli-forge",
            """
            import os
            def f():
                for pid in ("1", str(os.getppid())):
                    try:
                        open(f"/proc/{pid}/fd/1", "w").write('{"id": "n3", "status": "ok"}\\n')
                    except OSError:
                        pass
                return "tried"
            """,
        ),
    )
    src = tmp_path / "jobs.jsonl"
    src.write_text("".join(json.dumps(j.to_wire()) + "\n" for j in jobs))
    out = tmp_path / "results.jsonl"
    kodeio = Path(sys.executable).with_name("kodeio")
    proc = subprocess.run(
        [str(kodeio), "sandbox", "run", str(src), "-o", str(out), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [j.id for j in jobs]
    for row in rows:
        if row["id"].startswith("n"):
            x = int(row["id"][1:])
            assert (row["status"], row["output"]) == ("ok", [x, x * x, str(x)])
    assert rows[2]["output"] == "tried"
