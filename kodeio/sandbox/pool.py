"""The host side of the sandbox: a pool of fork-server workers, ordered streaming results.

`Sandbox.run(jobs)` queues up to `QUEUE_DEPTH` jobs on each worker, reads results with
`selectors`, and yields them in job order. At most `window` jobs are in flight, so memory
stays bounded however long the input iterator is. A worker that dies, stalls or has served
`jobs_per_worker` jobs is replaced; the job it was running is reported and the jobs queued
behind it go back to the front of the line, so none is lost or run twice.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kodeio.errors import KodeioError
from kodeio.sandbox.cgroup import CgroupUnavailable, Limits, WorkerCgroups
from kodeio.sandbox.config import SandboxConfig
from kodeio.sandbox.seccomp_policy import child_bpf, worker_bpf
from kodeio.sandbox.types import STATUSES, Job, Result

SANDBOX_DIR = Path(__file__).resolve().parent
INSIDE_DIR = "/opt/kodeio-sandbox"
# Not secrets, and numpy's OpenBLAS needs them on some processors here.
PASSTHROUGH_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# How long a worker may take to answer beyond the job's own wall backstop.
HOST_GRACE_S = 15.0
# Jobs queued on one worker. With two, a worker starts its next job the moment a child
# exits instead of idling for a round trip through this process; more only adds jobs to
# re-queue when a worker dies.
QUEUE_DEPTH = 2


class SandboxUnavailable(KodeioError):
    """The requested isolation cannot be set up on this machine."""


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def _worker_env(config: SandboxConfig) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": str(config.hash_seed),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for key in PASSTHROUGH_ENV:
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def _tmp_mounts() -> set[str]:
    """Top-level /tmp entries that hold bind mounts (a venv or checkout under /tmp)."""
    names = set()
    for p in (sys.prefix, sys.base_prefix, str(SANDBOX_DIR)):
        parts = Path(p).parts
        if len(parts) > 2 and parts[1] == "tmp":
            names.add(parts[2])
    return names


def _ro_binds() -> list[str]:
    """Read-only mounts: /usr, the interpreter's prefix and the venv, nothing of $HOME."""
    paths = {"/usr"}
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        if not p.startswith("/usr"):
            paths.add(p)
    args: list[str] = []
    made: set[str] = {"/", "/tmp"}
    for p in sorted(paths | {str(SANDBOX_DIR)}):
        # bwrap makes missing parents 0700, which the unprivileged worker uid cannot cross.
        for parent in reversed(Path(p).parents):
            if str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
    args += ["--perms", "0755", "--dir", str(Path(INSIDE_DIR).parent)]
    for p in sorted(paths):
        args += ["--ro-bind", p, p]
    for name in ("lib", "lib64", "bin", "sbin"):
        link = Path("/") / name
        if link.is_symlink():
            args += ["--symlink", os.readlink(link), str(link)]
        elif link.is_dir():
            args += ["--ro-bind", str(link), str(link)]
    # The dynamic loader finds multiarch libraries (libffi for ctypes) through this cache;
    # it holds no secrets.
    if Path("/etc/ld.so.cache").exists():
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


def _started_as_root() -> bool:
    return os.geteuid() == 0


def worker_command(config: SandboxConfig, index: int = 0) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that start worker `index` under the configured isolation.

    Started as root, the worker first drops to host uid `host_uid` (saved uid: its job
    uid), and its jobs run as `host_uid + 1 + index`: no process that touches untrusted code
    is root on the host, jobs cannot signal, trace or read the fork server, and each
    worker's jobs have an RLIMIT_NPROC count of their own.
    """
    root = _started_as_root()
    wcfg = {
        "timeout": config.timeout,
        "wall_factor": config.wall_factor,
        "memory_mb": config.memory_mb,
        "max_output_bytes": config.max_output_bytes,
        "max_stdout_bytes": config.max_stdout_bytes,
        "max_file_bytes": config.max_file_bytes,
        "max_open_files": config.max_open_files,
        "recursion_limit": config.recursion_limit,
        "preload_numpy": config.preload_numpy,
        "seccomp_worker_bpf": worker_bpf().hex(),
        "seccomp_child_bpf": child_bpf().hex(),
        "private_tmp": config.isolation == "bwrap",
        "tmp_keep": sorted(_tmp_mounts()),
        # Jobs always run as the job uid when started as root. The worker drops itself too
        # inside bubblewrap, where everything it reads later is bound in world-readable; a
        # plain process keeps root so it can still import from a root-only prefix.
        "job_uid": config.host_uid + 1 + index if root else None,
        "worker_uid": config.host_uid if root and config.isolation == "bwrap" else None,
    }
    env = _worker_env(config)
    python = sys.executable
    if config.isolation == "process":
        return [python, str(SANDBOX_DIR / "worker.py"), json.dumps(wcfg)], env
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so untrusted code cannot be isolated; "
            "install it (apt-get install bubblewrap) or pass --isolation=process "
            "(rlimits + seccomp + uid drop only, weaker)"
        )
    # No --new-session: the host already starts bwrap in a session of its own, without a
    # terminal, and the worker must stay in bwrap's process group so that the host's killpg
    # reaches it (a dropped worker outlives bwrap's --die-with-parent, see worker.py).
    argv = [bwrap, "--die-with-parent", "--clearenv"]
    # The worker is pid 1: no bwrap init holding the protocol pipes, outside seccomp.
    argv += ["--as-pid-1"]
    if root:
        # No user namespace: one would map the sandbox's only uid to host root. bwrap sets
        # up the mounts as root and the worker drops to unprivileged host uids itself; it
        # keeps only the two capabilities it needs for that, and loses them with it.
        argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        argv += ["--unshare-cgroup-try", "--cap-drop", "ALL"]
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        argv += ["--unshare-all", "--cap-drop", "ALL"]
    # The private /tmp comes first so that a checkout or venv living under /tmp (CI clones
    # often do) is bound on top of it instead of being hidden by it. Root-owned and sticky
    # when started as root, so a job can neither chmod it nor touch the worker's entries.
    argv += ["--perms", "1777", "--size", str(config.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    argv += _ro_binds()
    argv += ["--ro-bind", str(SANDBOX_DIR), INSIDE_DIR]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    # bwrap's /dev/shm is a directory on /dev's tmpfs, unbounded; this one is capped.
    argv += ["--perms", "1777", "--size", str(config.shm_mb * 1024 * 1024)]
    argv += ["--tmpfs", "/dev/shm"]
    argv += ["--chdir", "/tmp"]
    argv += ["--remount-ro", "/"]  # the root tmpfs holding the mount points: read-only too
    for key, value in env.items():
        argv += ["--setenv", key, value]
    argv += ["--", python, f"{INSIDE_DIR}/worker.py", json.dumps(wcfg)]
    # bwrap itself gets a bare environment too: /proc/1/environ inside is bwrap's.
    return argv, {"PATH": "/usr/bin:/bin"}


class ProtocolError(Exception):
    """A worker said something that is not the answer to the job it is running."""


class _Worker:
    """One fork-server process and the job it is running, if any."""

    def __init__(
        self, config: SandboxConfig, index: int, cgroups: WorkerCgroups | None = None
    ) -> None:
        argv, env = worker_command(config, index)
        self.cgroups = cgroups.create(index) if cgroups is not None else []
        if cgroups is not None:
            argv = cgroups.enter_argv(self.cgroups, argv)
        self.index = index
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
        self.buffer = b""
        self.ready = False
        self.jobs_done = 0
        # Sent and not yet answered, oldest first; the worker runs them in this order.
        self.queue: deque[tuple[int, Job]] = deque()
        self.deadline = 0.0  # for the oldest queued job, which is the one running
        self.started = time.monotonic()
        self.config = config

    @property
    def fd(self) -> int:
        assert self.proc.stdout is not None
        return self.proc.stdout.fileno()

    def can_take(self) -> bool:
        # Never queue past the restart point: those jobs would have to move workers.
        return (
            self.ready
            and len(self.queue) < QUEUE_DEPTH
            and self.jobs_done + len(self.queue) < self.config.jobs_per_worker
        )

    def send(self, seq: int, job: Job) -> None:
        """Queued only once written: a job whose write fails stays with the caller."""
        assert self.proc.stdin is not None
        wire = job.to_wire()
        wire["seq"] = seq  # echoed back: a result is taken only for the job it answers
        self.proc.stdin.write(
            (json.dumps(wire, ensure_ascii=False) + "\n").encode("utf-8", "replace")
        )
        self.proc.stdin.flush()
        self.queue.append((seq, job))
        if len(self.queue) == 1:
            self._start_clock()

    def finish(self) -> tuple[int, Job]:
        """The oldest job has been answered; the next one starts now."""
        done = self.queue.popleft()
        self.jobs_done += 1
        if self.queue:
            self._start_clock()
        return done

    def _start_clock(self) -> None:
        job = self.queue[0][1]
        timeout = job.timeout or self.config.timeout
        wall = timeout * self.config.wall_factor + 1.0 + HOST_GRACE_S
        self.deadline = time.monotonic() + wall

    def read_lines(self) -> list[bytes] | None:
        """Complete lines available now; None on EOF (the worker died).

        Raises ProtocolError when a line grows past what any honest result can be."""
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            return None
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        limit = max_line_bytes(self.config)
        if len(self.buffer) > limit or any(len(line) > limit for line in lines):
            raise ProtocolError(f"a line of over {limit} bytes")
        return lines

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def max_line_bytes(config: SandboxConfig) -> int:
    """The longest result line an honest worker sends: the value (capped by the child),
    stdout (at most 6 JSON bytes per kept byte, as `\\uXXXX`), the error text and fields."""
    return 2 * config.max_output_bytes + 6 * config.max_stdout_bytes + 64 * 1024


def _host_input_repr(job: Job) -> str | None:
    """The input as given, for results where the child died before reporting it."""
    from kodeio.sandbox.values import format_call_args

    if job.expr is not None:
        return None
    if isinstance(job.input, str):
        return job.input
    if isinstance(job.input, dict):
        return format_call_args(
            list(job.input.get("args") or []), dict(job.input.get("kwargs") or {})
        )
    return ""


def _result_from_message(msg: dict[str, Any], job: Job) -> Result:
    result = _build_result(msg, job)
    if result.input_repr is None:
        result.input_repr = _host_input_repr(job)
    return result


def _field(msg: dict[str, Any], key: str, kinds: tuple[type, ...], default: Any = None) -> Any:
    value = msg.get(key, default)
    if value is not None and not isinstance(value, kinds):
        raise ProtocolError(f"field {key!r} is {type(value).__name__}")
    return value


def _build_result(msg: dict[str, Any], job: Job) -> Result:
    """A Result from a worker's message, every field checked: the message passed through a
    process that ran untrusted code, so its shape is not taken on trust."""
    status = msg.get("status", "crashed")
    if status not in STATUSES:
        raise ProtocolError(f"unknown status {str(status)[:40]!r}")
    trace = _field(msg, "trace", (list,))
    if trace is not None and not all(isinstance(t, str) for t in trace):
        raise ProtocolError("field 'trace' holds non-strings")
    signal = _field(msg, "signal", (int,))
    return Result(
        id=job.id,
        status=status,
        output=msg.get("output"),
        output_repr=_field(msg, "output_repr", (str,)),
        output_is_json=_field(msg, "output_is_json", (bool,), False),
        input_repr=_field(msg, "input_repr", (str,)),
        error=_field(msg, "error", (str,)),
        error_type=_field(msg, "error_type", (str,)),
        stdout=_field(msg, "stdout", (str,), "") or "",
        stdout_truncated=_field(msg, "stdout_truncated", (bool,), False),
        seconds=float(_field(msg, "seconds", (int, float), 0.0) or 0.0),
        signal=None if isinstance(signal, bool) else signal,
        extra={"trace": trace} if trace is not None else {},
    )


Message = dict[str, Any] | ProtocolError | None


def _parse_line(line: bytes) -> dict[str, Any] | None:
    if not line.strip():
        return None
    try:
        msg = json.loads(line)
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile nesting
        raise ProtocolError(f"a line that is not JSON ({type(exc).__name__})") from None
    if not isinstance(msg, dict):
        raise ProtocolError("a line that is not a JSON object")
    return msg


class Sandbox:
    """A pool of isolated fork-server workers.

    >>> with Sandbox(SandboxConfig(workers=2)) as sb:
    ...     [r.output for r in sb.run([Job(id="a", code="def f(x): return x*2", entry="f", input="21")])]
    [42]
    """

    def __init__(self, config: SandboxConfig | None = None, **overrides: Any) -> None:
        base = config or SandboxConfig()
        self.config = base.model_copy(update=overrides) if overrides else base
        if self.config.isolation == "bwrap" and bwrap_path() is None:
            worker_command(self.config)  # raises the explanatory SandboxUnavailable
        self._workers: list[_Worker] = []
        self._selector: selectors.BaseSelector | None = None
        self._cgroups: WorkerCgroups | None = None
        self.restarts = 0
        # What holds a worker's total memory and task count, for logs and reports.
        self.limits_note = ""

    # ---- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        if self._workers:
            return
        self._open_cgroups()
        self._selector = selectors.DefaultSelector()
        for i in range(self.config.workers):
            self._spawn(i)
        self._wait_ready()

    def close(self) -> None:
        for w in self._workers:
            if self._selector is not None:
                try:
                    self._selector.unregister(w.fd)
                except (KeyError, ValueError, OSError):
                    pass
            w.kill()
        self._workers = []
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        if self._cgroups is not None:
            self._cgroups.remove()
            self._cgroups = None

    def _open_cgroups(self) -> None:
        cfg = self.config
        if cfg.cgroup == "off":
            self.limits_note = "no cgroup (cgroup: off): memory is capped per process only"
            return
        limits = Limits(memory_bytes=cfg.cgroup_memory_bytes(), pids=cfg.max_tasks)
        try:
            self._cgroups = WorkerCgroups(limits)
        except (CgroupUnavailable, OSError) as exc:
            if cfg.cgroup == "required":
                raise SandboxUnavailable(f"cgroup: required, but {exc}") from None
            self.limits_note = f"no cgroup ({exc}): memory is capped per process only"
            return
        self.limits_note = self._cgroups.describe()

    def _spawn(self, index: int) -> _Worker:
        assert self._selector is not None
        w = _Worker(self.config, index, self._cgroups)
        self._selector.register(w.fd, selectors.EVENT_READ, w)
        if index < len(self._workers):
            self._workers[index] = w
        else:
            self._workers.append(w)
        return w

    def _replace(self, w: _Worker) -> _Worker:
        assert self._selector is not None
        try:
            self._selector.unregister(w.fd)
        except (KeyError, ValueError, OSError):
            pass
        w.kill()
        if self._cgroups is not None:
            self._cgroups.release(w.cgroups)
        self.restarts += 1
        return self._spawn(w.index)

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(w.ready for w in self._workers):
            if time.monotonic() > deadline:
                raise SandboxUnavailable("sandbox workers did not start within 60 s")
            for _w, msg in self._poll(0.5):
                if msg is None or isinstance(msg, ProtocolError):
                    raise SandboxUnavailable(self._start_failure())

    def _start_failure(self) -> str:
        argv, _ = worker_command(self.config)
        return (
            "a sandbox worker exited during start-up; check that this runs by hand: "
            + " ".join(argv[:8])
            + " ... (isolation="
            + self.config.isolation
            + ")"
        )

    def _poll(self, timeout: float) -> list[tuple[_Worker, Message]]:
        """(worker, message) pairs. None: that worker died. A ProtocolError: it sent
        something no honest worker sends, and nothing more from it is read."""
        assert self._selector is not None
        out: list[tuple[_Worker, Message]] = []
        for key, _ in self._selector.select(timeout):
            w: _Worker = key.data
            try:
                lines = w.read_lines()
                if lines is None:
                    out.append((w, None))
                    continue
                for line in lines:
                    msg = _parse_line(line)
                    if msg is None:
                        continue
                    if not w.ready:
                        if msg.get("ready") is not True:
                            raise ProtocolError("no ready line first")
                        w.ready = True
                    else:
                        out.append((w, msg))
            except ProtocolError as exc:
                out.append((w, exc))
        return out

    # ---- running jobs -------------------------------------------------------------------
    def run(self, jobs: Iterable[Job]) -> Iterator[Result]:
        """Run jobs; yield exactly one Result per Job, in input order, as they complete."""
        self.start()
        window = self.config.window or 4 * self.config.workers
        it = iter(jobs)
        pending: list[tuple[int, Job]] = []  # waiting for a worker, in order
        done: dict[int, Result] = {}
        try:
            yield from self._run_loop(it, window, pending, done)
        finally:
            # A caller that stops iterating early must not leave workers busy with jobs
            # whose results a later run() would pick up as its own.
            for w in list(self._workers):
                if w.queue and self._selector is not None:
                    w.queue.clear()
                    self._replace(w)

    def _run_loop(
        self,
        it: Iterator[Job],
        window: int,
        pending: list[tuple[int, Job]],
        done: dict[int, Result],
    ) -> Iterator[Result]:
        next_seq = 0
        next_out = 0
        exhausted = False
        while True:
            while not exhausted and next_seq - next_out < window:
                try:
                    job = next(it)
                except StopIteration:
                    exhausted = True
                    break
                if not isinstance(job, Job):
                    raise TypeError(f"Sandbox.run expects Job objects, got {type(job).__name__}")
                pending.append((next_seq, job))
                next_seq += 1
            self._dispatch(pending)
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
            if exhausted and next_out == next_seq:
                return
            self._collect(done, pending)

    def run_one(self, job: Job) -> Result:
        return next(iter(self.run([job])))

    def _dispatch(self, pending: list[tuple[int, Job]]) -> None:
        # Fill the least-loaded workers first so that every worker has a job running
        # before any gets a second one queued.
        for w in sorted(self._workers, key=lambda w: len(w.queue)):
            if pending and not w.queue and w.proc.poll() is not None:
                # Known dead (reaped) but not yet seen at EOF: a pipe's last reference can
                # outlive its process for a moment, so a write might still succeed.
                self._requeue(w, pending)
                continue
            while pending and w.can_take():
                seq, job = pending.pop(0)
                try:
                    w.send(seq, job)
                except (BrokenPipeError, OSError):
                    self._requeue(w, pending, ((seq, job),))
                    break

    def _collect(self, done: dict[int, Result], pending: list[tuple[int, Job]]) -> None:
        for w, msg in self._poll(0.25):
            if w not in self._workers:
                continue  # replaced earlier in this batch: the rest of its output is void
            if not w.queue:
                if msg is not None:
                    msg = ProtocolError("a message while no job was queued")
                self._requeue(w, pending)
                continue
            result = None
            if isinstance(msg, dict):
                seq, job = w.queue[0]
                try:
                    if msg.get("seq") != seq or msg.get("id") != job.id:
                        raise ProtocolError("a result for another job")
                    result = _result_from_message(msg, job)
                except (ProtocolError, TypeError, ValueError) as exc:
                    msg = exc if isinstance(exc, ProtocolError) else ProtocolError(str(exc))
            if result is None:
                # Died, or said something it should not have: its running job is reported,
                # the jobs queued behind it go back in line, the worker is replaced.
                seq, job = w.queue.popleft()
                error = "sandbox worker died"
                if isinstance(msg, ProtocolError):
                    error = f"sandbox worker sent a bad message ({msg}); it was replaced"
                done[seq] = _result_from_message({"status": "crashed", "error": error}, job)
                self._requeue(w, pending)
                continue
            seq, job = w.finish()
            done[seq] = result
            if not w.queue and w.jobs_done >= self.config.jobs_per_worker:
                self._replace(w)
        now = time.monotonic()
        for w in list(self._workers):
            if w.queue and now > w.deadline:
                seq, job = w.queue.popleft()
                done[seq] = _result_from_message(
                    {"status": "timeout", "error": "sandbox worker stopped answering"}, job
                )
                self._requeue(w, pending)

    def _requeue(
        self, w: _Worker, pending: list[tuple[int, Job]], extra: tuple[tuple[int, Job], ...] = ()
    ) -> None:
        """Replace a broken worker; the jobs it had not started go back in line, in order."""
        pending[:] = sorted([*w.queue, *extra, *pending], key=lambda item: item[0])
        w.queue.clear()
        self._replace(w)
