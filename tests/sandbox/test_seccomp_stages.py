"""The seccomp policy in two stages: the fork server confined once, each child a bit more."""

from __future__ import annotations

from pathlib import Path

from kodeio.sandbox import Job, Sandbox, SandboxConfig
from kodeio.sandbox.seccomp_policy import CHILD_DENIED, DENIED, WORKER_DENIED

READ_STATUS = """def f():
    fields = dict(line.split(':', 1) for line in open('/proc/self/status'))
    return [fields['Seccomp'].strip(), fields['Seccomp_filters'].strip()]
"""


def test_the_two_stages_deny_what_the_issue_lists_and_the_worker_keeps_little():
    issue = {"fork", "vfork", "execve", "kill", "tkill", "tgkill", "ptrace", "socket",
             "connect", "mount", "unshare", "setns", "bpf", "keyctl"}  # fmt: skip
    assert issue <= set(DENIED)
    assert not set(WORKER_DENIED) & set(CHILD_DENIED)
    # The fork server keeps only what it uses: killing and waiting on its children, and
    # handing them a lower uid. Forking itself goes through clone, denied to children.
    signals = {"kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"}
    uids = {"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups"}
    assert set(CHILD_DENIED) <= signals | uids | {"pidfd_send_signal", "pidfd_open"}


def test_children_run_under_both_filters_and_the_worker_under_its_own(process_tree):
    with Sandbox(SandboxConfig(workers=1)) as sb:
        child = sb.run_one(Job(id="s", code=READ_STATUS, entry="f"))
        workers = [
            pid
            for pid in process_tree(sb._workers[0].proc.pid)
            if b"worker.py" in _cmdline(pid) and not _cmdline(pid).startswith(b"/usr/bin/bwrap")
        ]
        statuses = [_status(pid) for pid in workers]
    assert child.status == "ok", child.error
    assert child.output == ["2", "2"]  # filter mode, and the worker's + the child's program
    assert statuses and all(s == ("2", "1") for s in statuses), statuses


def _status(pid: int) -> tuple[str, str]:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return fields["Seccomp"].strip(), fields["Seccomp_filters"].strip()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
