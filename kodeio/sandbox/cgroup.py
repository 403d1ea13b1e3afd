"""Per-worker cgroups: one memory and process ceiling for a worker and everything its jobs start.

`RLIMIT_AS` caps one process; a job that forks gets that much again per child, and the
tmpfs pages it writes to `/tmp` and `/dev/shm` count against no rlimit at all. A cgroup sums
all of them: the worker, its jobs, their children and the shared-memory pages they touch.

Two backends, picked from `/proc/self/mountinfo` and `/proc/self/cgroup`:
- **v2** (unified): `memory.max`, `memory.swap.max`, `pids.max` in
  `<own cgroup>/kodeio-sandbox-<pid>.<k>/w<i>.<n>`. The parent must have `memory` and `pids` in
  its `cgroup.subtree_control`; when it cannot be given them because this process sits in it
  (cgroup v2 lets only empty groups hand controllers down), the host moves itself into a
  `host` leaf of its own group first, and only when it is the group's sole process.
- **v1** (separate `memory` and `pids` hierarchies): `memory.limit_in_bytes`,
  `memory.memsw.limit_in_bytes` where swap accounting exists, and `pids.max`.

A worker enters its group before bubblewrap starts (`enter_argv` wraps the command in a
shell that writes its own pid to `cgroup.procs` and then execs), so bwrap, the worker and
every job are born inside it, and `--unshare-cgroup` roots the sandbox's cgroup namespace
there. Nothing inside can leave: `/sys` is not mounted and no job is root.
"""

from __future__ import annotations

import errno
import itertools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "kodeio-sandbox-"
# Several sandboxes can be open in one process (a reward function beside a verify stage):
# each gets a parent group of its own, named <pid>.<n>.
_OPENED = itertools.count(1)


class CgroupUnavailable(Exception):
    """No writable memory+pids cgroup for the sandbox here; the message says why."""


@dataclass(frozen=True)
class Mounts:
    """Where cgroup hierarchies are mounted and where this process sits in each."""

    unified: Path | None = None  # the v2 group this process is in
    unified_root: Path | None = None  # its mount point
    v1: dict[str, Path] = field(default_factory=dict)  # controller -> this process's group

    @staticmethod
    def read(proc: Path = Path("/proc/self")) -> Mounts:
        memberships: dict[str, str] = {}
        for line in (proc / "cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                memberships[name] = path
        unified = unified_root = None
        v1: dict[str, Path] = {}
        for line in (proc / "mountinfo").read_text().splitlines():
            fields = line.split()
            sep = fields.index("-")
            root, mount_point = fields[3], fields[4]
            fstype, options = fields[sep + 1], fields[-1].split(",")
            if fstype == "cgroup2" and "" in memberships:
                unified_root = Path(mount_point)
                unified = _join(unified_root, root, memberships[""])
            elif fstype == "cgroup":
                for name in ("memory", "pids"):
                    if name in options and name in memberships:
                        v1[name] = _join(Path(mount_point), root, memberships[name])
        return Mounts(unified=unified, unified_root=unified_root, v1=v1)


def _join(mount_point: Path, mount_root: str, group: str) -> Path:
    # A mount of a sub-tree (a container's cgroup namespace) shows the group relative to it.
    rel = os.path.relpath(group, mount_root) if group.startswith(mount_root) else group
    return mount_point if rel in (".", "/") else mount_point / rel.lstrip("/")


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    pids: int


class WorkerCgroups:
    """Creates, limits and removes the groups of one `Sandbox`'s workers."""

    def __init__(self, limits: Limits, mounts: Mounts | None = None) -> None:
        self.limits = limits
        mounts = mounts or Mounts.read()
        self._made: list[Path] = []  # every directory created, parents first
        self._spawned = 0
        self.version, self._parents = self._open(mounts)

    # ---- set-up -------------------------------------------------------------------------
    def _open(self, mounts: Mounts) -> tuple[str, list[Path]]:
        reasons = []
        if mounts.unified is not None:
            try:
                return "v2", [self._open_v2(mounts.unified)]
            except CgroupUnavailable as exc:
                reasons.append(str(exc))
        if "memory" in mounts.v1 and "pids" in mounts.v1:
            try:
                return "v1", [self._mkdir_parent(mounts.v1[c]) for c in ("memory", "pids")]
            except OSError as exc:
                self.remove()
                reasons.append(f"cgroup v1: {exc.strerror} for {exc.filename}")
        elif mounts.v1:
            reasons.append("cgroup v1 lacks a memory or pids hierarchy")
        raise CgroupUnavailable("; ".join(reasons) or "no cgroup file system is mounted")

    def _open_v2(self, own: Path) -> Path:
        have = set(_read(own / "cgroup.controllers").split())
        if not {"memory", "pids"} <= have:
            raise CgroupUnavailable(
                f"cgroup v2: {own} offers controllers {sorted(have) or 'none'}, "
                "not memory and pids (they may be bound to a v1 hierarchy)"
            )
        try:
            _enable_controllers(own)
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise CgroupUnavailable(f"cgroup v2: {exc.strerror} for {own}") from None
            self._move_self_to_leaf(own)
        try:
            parent = self._mkdir_parent(own)
            _enable_controllers(parent)
        except OSError as exc:
            self.remove()
            raise CgroupUnavailable(f"cgroup v2: {exc.strerror} for {exc.filename}") from None
        return parent

    def _move_self_to_leaf(self, own: Path) -> None:
        procs = _read(own / "cgroup.procs").split()
        if procs != [str(os.getpid())]:
            raise CgroupUnavailable(
                f"cgroup v2: {own} holds other processes, so it cannot hand memory and pids "
                "controllers to a sandbox group (run kodeio in a delegated cgroup of its own, "
                "e.g. systemd-run --user --scope -p Delegate=yes)"
            )
        try:
            leaf = own / "host"
            leaf.mkdir(exist_ok=True)
            _write(leaf / "cgroup.procs", "0")
            _enable_controllers(own)
        except OSError as exc:
            raise CgroupUnavailable(f"cgroup v2: {exc.strerror} for {exc.filename}") from None

    def _mkdir_parent(self, own: Path) -> Path:
        _sweep_stale(own)
        parent = own / f"{PREFIX}{os.getpid()}.{next(_OPENED)}"
        parent.mkdir()
        self._made.append(parent)
        return parent

    # ---- per worker ---------------------------------------------------------------------
    def create(self, index: int) -> list[Path]:
        """Fresh groups for worker `index`'s next start (a replacement never inherits the
        charge or the stragglers of the worker it replaces): one per hierarchy."""
        self._spawned += 1
        name = f"w{index}.{self._spawned}"
        groups = [p / name for p in self._parents]
        for g in groups:
            g.mkdir()
            self._made.append(g)
        mem, pids = self.limits.memory_bytes, self.limits.pids
        if self.version == "v2":
            g = groups[0]
            _write(g / "memory.max", str(mem))
            if (g / "memory.swap.max").exists():
                _write(g / "memory.swap.max", "0")
            _write(g / "pids.max", str(pids))
        else:
            mem_group, pids_group = groups
            _write(mem_group / "memory.limit_in_bytes", str(mem))
            if (mem_group / "memory.memsw.limit_in_bytes").exists():
                # memory + swap: without it, a job's pages past the cap go to swap instead.
                _write(mem_group / "memory.memsw.limit_in_bytes", str(mem))
            _write(pids_group / "pids.max", str(pids))
        return groups

    @staticmethod
    def enter_argv(groups: list[Path], argv: list[str]) -> list[str]:
        """`argv`, started from inside the groups (no preexec_fn: the host may have threads)."""
        script = 'while [ "$1" != -- ]; do echo 0 > "$1" || exit 125; shift; done; shift; exec "$@"'
        procs = [str(g / "cgroup.procs") for g in groups]
        return ["/bin/sh", "-c", script, "kodeio-cgroup", *procs, "--", *argv]

    def release(self, groups: list[Path], timeout: float = 1.0) -> None:
        """Remove a replaced worker's groups once its processes have left them (the pid
        namespace's teardown finishes a moment after bubblewrap has been reaped)."""
        deadline = time.monotonic() + timeout
        for g in groups:
            if _rmdir_when_empty(g, deadline) and g in self._made:
                self._made.remove(g)

    def remove(self, timeout: float = 5.0) -> None:
        """Remove every group made, children first; one still busy is left to a later sweep."""
        deadline = time.monotonic() + timeout
        for path in reversed(self._made):
            _rmdir_when_empty(path, deadline)
        self._made = []

    def describe(self) -> str:
        mib = self.limits.memory_bytes // (1024 * 1024)
        return f"cgroup {self.version}: {mib} MiB memory, {self.limits.pids} tasks per worker"


def _enable_controllers(group: Path) -> None:
    if not {"memory", "pids"} <= set(_read(group / "cgroup.subtree_control").split()):
        _write(group / "cgroup.subtree_control", "+memory +pids")


def _sweep_stale(own: Path) -> None:
    """Remove groups left by sandbox hosts that died without cleaning up (empty ones only)."""
    for stale in own.glob(f"{PREFIX}*"):
        pid = stale.name.removeprefix(PREFIX).split(".")[0]
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        for child in stale.iterdir():
            if child.is_dir():
                _try_rmdir(child)
        _try_rmdir(stale)


def _rmdir_when_empty(path: Path, deadline: float) -> bool:
    while True:
        try:
            path.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                return False
            time.sleep(0.01)


def _try_rmdir(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, value: str) -> None:
    # cgroup files take one write() each; no temp-and-rename (they are not regular files).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
