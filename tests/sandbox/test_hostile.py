"""The hostile suite: each program attacks the host; each must be contained and classified.

For every program we check the status, that the host is unchanged (no file outside, no
connection to a loopback listener, no secret in any result, no process left), and that a
normal job right after it in the same sandbox is still correct.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

from kodeio.sandbox import Job, Sandbox, SandboxConfig

SECRET = "hf_kodeio_test_secret_" + uuid.uuid4().hex
MARKER = "kodeio-hostile-" + uuid.uuid4().hex
HOST_FILE = Path("/tmp") / MARKER  # the host's /tmp; the sandbox has a private one


@pytest.fixture(scope="module")
def listener():
    """A loopback TCP listener that records every connection it accepts."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    accepted: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = srv.accept()
            except OSError:
                continue
            accepted.append(str(addr))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1], accepted
    stop.set()
    thread.join(2)
    srv.close()


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("secret") / "token"
    path.write_text(SECRET)
    return path


@pytest.fixture(scope="module")
def sandbox(secret_file):
    old = os.environ.get("HF_TOKEN")
    os.environ["HF_TOKEN"] = SECRET  # the workers must never see the host environment
    try:
        with Sandbox(SandboxConfig(workers=2, timeout=1.0, memory_mb=512, wall_factor=2.0)) as sb:
            yield sb
    finally:
        if old is None:
            os.environ.pop("HF_TOKEN", None)
        else:
            os.environ["HF_TOKEN"] = old


def hostile_programs(port: int, secret_path: Path) -> list[tuple[str, str, set[str]]]:
    """(name, body of f(), accepted statuses)."""
    return [
        ("busy_loop", "while True:\n        pass", {"timeout"}),
        ("c_level_loop", "return sum(range(10**12))", {"timeout"}),
        ("sleep", "import time\n    time.sleep(60)", {"timeout"}),
        (
            "threads_spin",
            "import threading\n    for _ in range(4):\n        threading.Thread(target=lambda: [0 for _ in iter(int, 1)], daemon=True).start()\n    while True:\n        pass",
            {"timeout"},
        ),
        (
            "ignore_sigxcpu",
            "import signal\n    signal.signal(signal.SIGXCPU, signal.SIG_IGN)\n    while True:\n        pass",
            {"timeout"},
        ),
        ("fork", "import os\n    return os.fork()", {"blocked"}),
        ("fork_bomb", "import os\n    while True:\n        os.fork()", {"blocked"}),
        (
            "subprocess",
            "import subprocess\n    return subprocess.run(['id'], capture_output=True).stdout",
            {"blocked"},
        ),
        ("os_system", "import os\n    return os.system('touch /tmp/x')", {"blocked"}),
        ("execv", "import os\n    os.execv('/bin/sh', ['sh', '-c', 'true'])", {"blocked"}),
        (
            "socket_connect",
            f"import socket\n    s = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n    return 'connected'",
            {"blocked"},
        ),
        (
            "kill_parent",
            "import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)",
            {"blocked"},
        ),
        ("kill_everyone", "import os, signal\n    os.kill(-1, signal.SIGKILL)", {"blocked"}),
        ("ptrace", "import ctypes\n    return ctypes.CDLL(None).ptrace(16, 1, 0, 0)", {"blocked"}),
        ("unshare", "import ctypes\n    return ctypes.CDLL(None).unshare(0x10000000)", {"blocked"}),
        (
            "mount",
            "import ctypes\n    return ctypes.CDLL(None).mount(b'none', b'/tmp', b'tmpfs', 0, None)",
            {"blocked"},
        ),
        ("setuid_root", "import os\n    os.setuid(0)\n    return 1", {"blocked"}),
        ("huge_alloc", "return len(bytearray(60 * 1024**3))", {"memory"}),
        ("grow_list", "xs = []\n    while True:\n        xs.append(bytearray(10**8))", {"memory"}),
        ("recursion", "def g(n):\n        return g(n + 1)\n    return g(0)", {"recursion"}),
        ("print_flood", "while True:\n        print('x' * 10000)", {"output_too_large"}),
        (
            "raw_write_flood",
            "import os\n    while True:\n        os.write(1, b'x' * 65536)",
            {"output_too_large"},
        ),
        ("return_200mb", "return 'y' * (200 * 1024 * 1024)", {"output_too_large", "memory"}),
        ("os_exit", "import os\n    os._exit(0)", {"no_result"}),
        ("segfault", "import ctypes\n    return ctypes.string_at(0)", {"crashed"}),
        ("abort", "import os\n    os.abort()", {"crashed", "blocked"}),
        ("sys_exit", "import sys\n    sys.exit(0)", {"error"}),
        ("keyboard_interrupt", "raise KeyboardInterrupt", {"error"}),
        (
            "read_env_secret",
            "import os\n    return os.environ.get('HF_TOKEN', 'absent') + repr(dict(os.environ))",
            {"ok"},
        ),
        (
            "read_proc1_environ",
            "return open('/proc/1/environ', 'rb').read().decode(errors='replace')",
            {"ok", "error"},
        ),
        (
            "read_hf_token_file",
            "import os\n    return open(os.path.expanduser('~/.cache/huggingface/token')).read()",
            {"error"},
        ),
        ("read_root_token", "return open('/root/.cache/huggingface/token').read()", {"error"}),
        ("read_host_secret", f"return open({str(secret_path)!r}).read()", {"error"}),
        (
            "write_host_tmp",
            f"open('/tmp/{MARKER}', 'w').write('pwned')\n    return 'written'",
            {"ok", "error"},
        ),
        (
            "write_repo",
            f"open({str(Path.cwd() / MARKER)!r}, 'w').write('pwned')\n    return 'written'",
            {"error", "ok"},
        ),
        ("delete_usr", "import os\n    os.remove('/usr/bin/env')\n    return 'deleted'", {"error"}),
        (
            "fill_tmp",
            "i = 0\n    while True:\n        open(f'/tmp/f{i}', 'wb').write(b'z' * 10**6)\n        i += 1",
            {"error", "output_too_large", "timeout"},
        ),
        ("many_files", "return [open('/dev/null') for _ in range(100000)]", {"error"}),
        (
            "raise_rlimit",
            "import resource\n    resource.setrlimit(resource.RLIMIT_CPU, (10**6, 10**6))\n    while True:\n        pass",
            {"error", "timeout"},
        ),
        (
            "poison_builtins",
            "import builtins\n    builtins.len = lambda x: -1\n    builtins.sorted = None\n    return 'poisoned'",
            {"ok"},
        ),
    ]


NORMAL = Job(
    id="normal",
    code="def f(xs):\n    return sorted(xs) + [len(xs)]",
    entry="f",
    input={"args": [[3, 1, 2]]},
)


def test_hostile_suite(sandbox, listener, secret_file):
    port, accepted = listener
    programs = hostile_programs(port, secret_file)
    assert len(programs) >= 25
    jobs = []
    for name, body, statuses in programs:
        # Touching 512 MB takes ~0.5 CPU s in a VM (page faults); leave the memory cases
        # room so that the address-space limit, not the CPU limit, is what stops them.
        timeout = 5.0 if statuses == {"memory"} else None
        jobs.append(Job(id=name, code=f"def f():\n    {body}\n", entry="f", timeout=timeout))
        jobs.append(NORMAL)
    results = list(sandbox.run(jobs))
    assert len(results) == len(jobs)
    failures = []
    for (name, _, accepted_statuses), hostile, normal in zip(
        programs, results[::2], results[1::2], strict=True
    ):
        if hostile.status not in accepted_statuses:
            failures.append(
                f"{name}: status {hostile.status} ({hostile.error}) not in {accepted_statuses}"
            )
        if normal.status != "ok" or normal.output != [1, 2, 3, 3]:
            failures.append(
                f"{name}: the next normal job gave {normal.status} {normal.output_repr}"
            )
        text = json.dumps(hostile.to_row())
        if SECRET in text:
            failures.append(f"{name}: the secret leaked into the result")
    assert not failures, "\n".join(failures)
    assert accepted == [], "a sandboxed job reached a loopback listener"
    assert not HOST_FILE.exists()
    assert not (Path.cwd() / MARKER).exists()


def test_env_is_clean_and_home_invisible(sandbox):
    code = "import os\ndef f():\n    return [sorted(os.environ), os.getuid(), os.path.exists('/root/.cache'), os.path.exists('/home')]"
    res = sandbox.run_one(Job(id="env", code=code, entry="f"))
    assert res.status == "ok", res.error
    env_keys, uid, root_cache, home = res.output
    assert "HF_TOKEN" not in env_keys
    assert uid != 0
    assert not root_cache and not home


def test_network_namespace_has_no_peers(sandbox):
    # Even before seccomp, there is no route out: check from inside via /proc.
    res = sandbox.run_one(
        Job(id="net", code="def f():\n    return open('/proc/net/route').read()", entry="f")
    )
    assert res.status == "ok"
    lines = [ln for ln in res.output.splitlines()[1:] if ln.strip()]
    assert lines == [], "the sandbox has a network route"


def test_no_process_left_behind(process_tree):
    with Sandbox(SandboxConfig(workers=2, timeout=1.0)) as sb:
        list(sb.run([Job(id="t", code="def f():\n    while True: pass", entry="f"), NORMAL]))
        tree = set()
        for worker in sb._workers:
            tree |= process_tree(worker.proc.pid)
        assert len(tree) >= 4  # bwrap, its init and the fork server, per worker
    deadline = time.monotonic() + 5  # SIGKILL delivery and reaping are asynchronous
    while time.monotonic() < deadline and _alive(tree):
        time.sleep(0.05)
    assert not _alive(tree), [Path(f"/proc/{p}/cmdline").read_bytes()[:80] for p in _alive(tree)]


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive
