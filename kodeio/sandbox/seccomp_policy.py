"""The seccomp policy of sandboxed children, compiled to BPF on the host.

Compiling here keeps pyseccomp (and the `threading` it imports) out of the fork server,
whose every fork would otherwise pay for it. The program is specific to this machine's
architecture, which is also the workers' one.
"""

from __future__ import annotations

import errno
import functools
import os

# Process creation, exec, signals to others, sockets, namespaces, ptrace, bpf, keys.
DENIED = (
    "fork",
    "vfork",
    "execve",
    "execveat",
    "kill",
    "tkill",
    "tgkill",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "pidfd_send_signal",
    "pidfd_open",
    "pidfd_getfd",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "socket",
    "socketpair",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "bpf",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "kexec_load",
    "init_module",
    "finit_module",
    "reboot",
    "swapon",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setgroups",
    "personality",
    "open_by_handle_at",
    "name_to_handle_at",
)
CLONE_THREAD = 0x00010000


@functools.cache
def compiled_bpf() -> bytes:
    """The filter as a raw BPF program (struct sock_filter array) for PR_SET_SECCOMP."""
    import pyseccomp as sc

    f = sc.SyscallFilter(sc.ALLOW)
    for name in DENIED:
        try:
            f.add_rule(sc.KILL_PROCESS, name)
        except (OSError, ValueError, RuntimeError):
            pass  # syscall unknown on this architecture
    # clone without CLONE_THREAD is a fork; threads stay allowed.
    f.add_rule(sc.KILL_PROCESS, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    # glibc tries clone3 first and falls back to clone on ENOSYS; clone3's flags live in
    # memory where seccomp cannot see them, so refuse it softly.
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
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
