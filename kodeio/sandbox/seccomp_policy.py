"""The seccomp policy of the sandbox, compiled to BPF on the host, in two stages.

- The worker (fork server) loads `WORKER_DENIED` once: everything a child must never do that
  the worker does not need either (exec, sockets, namespaces, ptrace, bpf, keys, ...).
- Each child inherits that filter and adds `CHILD_DENIED`: what the worker needs and a child
  must not do (fork, signals to others, pidfds, uid changes, which it makes before loading).

A child thus runs under both, the whole `DENIED` list, yet loads a program of ~20
instructions instead of ~70: the kernel compiles each program it is given, a per-child cost
that grows with the list (`bench/fork_floor.py` measures it).

Compiling here keeps pyseccomp (and the `threading` it imports) out of the fork server,
whose every fork would otherwise pay for it. The programs are specific to this machine's
architecture, which is also the workers' one.
"""

from __future__ import annotations

import errno
import functools
import os

# What neither the fork server nor a child ever does: process creation other than the
# server's forks, exec, sockets, namespaces, ptrace, bpf, keys, kernel modules.
WORKER_DENIED = (
    "fork", "vfork", "execve", "execveat", "pidfd_getfd", "ptrace", "process_vm_readv",
    "process_vm_writev", "socket", "socketpair", "connect", "bind", "listen", "accept",
    "accept4", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "bpf", "keyctl",
    "add_key", "request_key", "perf_event_open", "userfaultfd", "io_uring_setup", "kexec_load",
    "init_module", "finit_module", "reboot", "swapon", "personality", "open_by_handle_at",
    "name_to_handle_at",
    # The new mount API and the rest of the administrator's calls: they need capabilities no
    # process here holds, and are denied all the same.
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "delete_module", "kexec_file_load", "acct", "quotactl", "syslog", "iopl", "ioperm",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "vhangup", "uselib",
    "sethostname", "setdomainname", "fanotify_init", "swapoff",
    # Calls that aim at another process (the fork server, the next job): priority,
    # scheduling, affinity, I/O priority, its memory, comparing or reading its state.
    "setpriority", "sched_setscheduler", "sched_setparam", "sched_setattr",
    "sched_setaffinity", "ioprio_set", "migrate_pages", "move_pages", "kcmp",
    "get_robust_list", "process_madvise", "process_mrelease",
    # System V IPC and POSIX message queues outlive the process that made them and are not
    # counted against its memory limit; no seed needs them.
    "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semtimedop", "semctl",
    "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
    "mq_timedreceive", "mq_notify", "mq_getsetattr",
)  # fmt: skip
# Argument-dependent denials, (syscall, argument index, value): the calls stay allowed
# otherwise. prlimit64 on pid 0 is how glibc's setrlimit sets the caller's own limits.
F_SETOWN, F_SETSIG, F_SETOWN_EX = 8, 10, 15  # fcntl: signal another process on I/O
FIOSETOWN, SIOCSPGRP = 0x8901, 0x8902  # ioctl spellings of F_SETOWN
WORKER_DENIED_IF = (
    ("fcntl", 1, F_SETOWN), ("fcntl", 1, F_SETSIG), ("fcntl", 1, F_SETOWN_EX),
    ("ioctl", 1, FIOSETOWN), ("ioctl", 1, SIOCSPGRP),
)  # fmt: skip
# What the fork server does and a child must not: kill children past their wall time,
# wait on them through pidfds, and (when started as root) let them drop to nobody.
CHILD_DENIED = (
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal",
    "pidfd_open", "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
    "setgroups",
)  # fmt: skip
DENIED = WORKER_DENIED + CHILD_DENIED
CLONE_THREAD = 0x00010000


def _export(build) -> bytes:
    import pyseccomp as sc

    f = sc.SyscallFilter(sc.ALLOW)
    build(sc, f)
    fd = os.memfd_create("kodeio-bpf", 0)
    try:
        with os.fdopen(os.dup(fd), "wb") as fh:
            f.export_bpf(fh)
        os.lseek(fd, 0, os.SEEK_SET)
        program = b""
        while chunk := os.read(fd, 1 << 16):
            program += chunk
    finally:
        os.close(fd)
    return program


def _deny(sc, f, names: tuple[str, ...]) -> None:
    for name in names:
        try:
            f.add_rule(sc.KILL_PROCESS, name)
        except (OSError, ValueError, RuntimeError):
            pass  # syscall unknown on this architecture


@functools.cache
def worker_bpf() -> bytes:
    """The worker's filter, loaded once per fork server and inherited by every child."""

    def build(sc, f) -> None:
        _deny(sc, f, WORKER_DENIED)
        for name, index, value in WORKER_DENIED_IF:
            f.add_rule(sc.KILL_PROCESS, name, sc.Arg(index, sc.EQ, value))
        # Limits of any process but the caller's own (pid 0).
        f.add_rule(sc.KILL_PROCESS, "prlimit64", sc.Arg(0, sc.NE, 0))
        # glibc tries clone3 first and falls back to clone on ENOSYS; clone3's flags live in
        # memory where seccomp cannot see them, so refuse it softly.
        f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")

    return _export(build)


@functools.cache
def child_bpf() -> bytes:
    """What each child adds before running untrusted code."""

    def build(sc, f) -> None:
        _deny(sc, f, CHILD_DENIED)
        # clone without CLONE_THREAD is a fork; threads stay allowed.
        f.add_rule(sc.KILL_PROCESS, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))

    return _export(build)
