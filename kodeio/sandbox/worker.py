"""The fork server that runs inside the sandbox. Stdlib only (plus numpy if present).

Started by `kodeio.sandbox.pool` (inside bubblewrap, or as a plain process with
`isolation=process`). It pre-imports what seeds commonly use, confines itself with the
worker half of the seccomp policy, then reads one JSON job per line on stdin and answers
one JSON result per line on stdout. Jobs that mention numpy go to a second fork server,
forked from this one on first need, that preloads numpy too. Each job runs in a forked
child that confines itself further before touching the untrusted code:

    setsid -> stdout/stderr to a capped memfd -> rlimits -> drop uid (if root)
    -> the child half of the seccomp policy -> seed RNGs -> the seed's code, compiled
    (or loaded, if an earlier child compiled it) -> call -> JSON result into a memfd

The child never writes to the protocol pipe; a denied system call kills it with SIGSYS.
While it runs, this process sleeps on a pidfd and touches none of its own memory: after a
fork every page either process writes is a copy-on-write fault, the main cost here.
"""

from __future__ import annotations

# Pre-imported so that forked children start warm (CodeI/O seeds use these most). Every
# module here makes each fork dearer (more memory to map, copy and tear down; see
# bench/fork_floor.py), so nothing seeds rarely need: not shutil or tempfile (the worker
# imports them when it needs them), nor the compression libraries they pull in, nor
# secrets with OpenSSL.
import bisect  # noqa: F401
import builtins
import collections  # noqa: F401
import copy  # noqa: F401
import datetime  # noqa: F401
import decimal  # noqa: F401
import errno
import fractions  # noqa: F401
import functools  # noqa: F401
import gc
import heapq  # noqa: F401
import itertools  # noqa: F401
import json
import marshal
import math  # noqa: F401
import operator  # noqa: F401
import os
import random
import re  # noqa: F401
import resource
import select
import signal
import statistics  # noqa: F401
import string  # noqa: F401
import struct
import sys
import time
import traceback
import types
import typing  # noqa: F401

from values import format_call_args, literal_repr, parse_call_args, to_json_lossless

EXIT_REPORTED = 0
# What a child's result message may hold, and of which types; anything else is dropped.
STATUSES = frozenset(
    ("ok", "error", "timeout", "memory", "recursion", "crashed", "no_result",
     "output_too_large", "blocked")
)  # fmt: skip
MAX_OUTPUT_DEPTH = 200  # nesting of a JSON output; deeper values come back as their repr only
MAX_TEXT = 4000  # error text, error type and trace lines, in characters


def _log(msg: str) -> None:
    try:
        os.write(2, f"[kodeio-sandbox-worker] {msg}\n".encode())
    except OSError:
        pass


class CompiledFilter:
    """A seccomp BPF program the host compiled (`kodeio.sandbox.seccomp_policy`); loading
    it in a child is one prctl call instead of libseccomp generating it per job.
    The worker never imports pyseccomp: it pulls in `threading`, whose at-fork handler
    alone adds ~100 copy-on-write page faults to every child."""

    def __init__(self, program: bytes) -> None:
        import ctypes

        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        self._buf = ctypes.create_string_buffer(program, len(program))
        self._prog = SockFprog(len(program) // 8, ctypes.cast(self._buf, ctypes.c_void_p))
        self._address = ctypes.addressof(self._prog)
        # Resolved, typed and called once here so that the child's call touches as few
        # fresh pages as possible: every page it writes is a copy-on-write fault
        # (`bench/fork_floor.py` prices them).
        self._prctl = ctypes.CDLL(None, use_errno=True).prctl
        self._prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
        self._prctl.restype = ctypes.c_int
        # Inherited by every child; no process here ever execs, so setting it once is enough.
        if self._prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise OSError("prctl(PR_SET_NO_NEW_PRIVS) failed")

    def load(self) -> None:
        if self._prctl(22, 2, self._address, 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
            raise OSError("prctl(PR_SET_SECCOMP) failed")


class CodeCache:
    """Seeds compiled by one child, kept as marshal bytes for the next child running them.

    A seed usually runs many times (each generated input, twice for determinism), and the
    compiler is one of the dearest things a child does: loading the marshalled code instead
    spares it ~60 copy-on-write faults (`bench/fork_floor.py`). The child compiles (never
    this process: compiling untrusted source can take unbounded time and memory), writes
    the bytes to `fd` before any of the seed's code runs, and closes it. This process only
    stores bytes, and only children load them.
    """

    CHILD_FD = 4
    MAX_BLOB = 256 * 1024
    MAX_TOTAL = 4 * 1024 * 1024  # every fork copies this process's page tables: stay small
    MAX_ENTRIES = 256
    HEADER = struct.Struct("<Q")  # the blob's length: a torn write is never taken

    def __init__(self) -> None:
        self.fd = os.memfd_create("kodeio-code", 0)
        self.blobs: dict[str, bytes] = {}
        self.total = 0

    def before_fork(self, source: str) -> None:
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        blob = self.blobs.pop(source, None)
        if blob is not None:
            self.blobs[source] = blob  # most recently used last

    def after_exit(self, source: str) -> None:
        if source in self.blobs:
            return
        size = os.fstat(self.fd).st_size
        if not self.HEADER.size < size <= self.HEADER.size + self.MAX_BLOB:
            return
        data = os.pread(self.fd, size, 0)
        if self.HEADER.unpack_from(data)[0] != size - self.HEADER.size:
            return
        blob = data[self.HEADER.size :]
        size = len(source) + len(blob)  # the source is kept too, as the key
        if size > self.MAX_TOTAL // 4:
            return
        while self.blobs and (
            len(self.blobs) >= self.MAX_ENTRIES or self.total + size > self.MAX_TOTAL
        ):
            oldest = next(iter(self.blobs))
            self.total -= len(oldest) + len(self.blobs.pop(oldest))
        self.blobs[source] = blob
        self.total += size

    def compile_in_child(self, source: str) -> types.CodeType:
        """In the child, before any seed code runs; closes CHILD_FD whatever happens."""
        try:
            blob = self.blobs.get(source)
            if blob is not None:
                return marshal.loads(blob)
            code = compile(source, "<seed>", "exec")
            blob = marshal.dumps(code)
            if len(blob) <= self.MAX_BLOB:
                try:
                    os.write(self.CHILD_FD, self.HEADER.pack(len(blob)) + blob)
                except OSError:
                    pass  # e.g. over RLIMIT_FSIZE: then the next child compiles again
            return code
        finally:
            os.close(self.CHILD_FD)


_worker_confined = False


def confine_worker(bpf_hex: str | None) -> None:
    """Load the worker's half of the seccomp policy, once per process tree: the numpy server,
    forked from a confined worker, inherits it. See `kodeio.sandbox.seccomp_policy`."""
    global _worker_confined
    if bpf_hex and not _worker_confined:
        CompiledFilter(bytes.fromhex(bpf_hex)).load()
        _worker_confined = True


def worker_vm_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


class Worker:
    def __init__(self, cfg: dict) -> None:
        self.cfg = cfg
        bpf = cfg.get("seccomp_child_bpf")
        self.filter = CompiledFilter(bytes.fromhex(bpf)) if bpf else None
        self.numpy = None
        if cfg.get("preload_numpy", True):
            try:
                import numpy
                import numpy.random  # lazily imported otherwise: ms per child

                self.numpy = numpy
            except ImportError:
                pass
        self.base_vm = worker_vm_bytes()
        self.job_uid = cfg.get("job_uid")
        # Reused by every job: the child's stdout/stderr, and its result message. The child
        # writes into files rather than a pipe so that this process can sleep untouched
        # until it exits (see run_job); RLIMIT_FSIZE bounds both.
        self.stdout_fd = os.memfd_create("kodeio-stdout", 0)
        self.result_fd = os.memfd_create("kodeio-result", 0)
        self.codes = CodeCache()
        self.tmp_keep = frozenset(cfg.get("tmp_keep") or ())
        # Everything a child needs is built here, once: every page a child writes is a
        # copy-on-write fault (priced by bench/fork_floor.py), and Python-level work writes
        # many.
        self.encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
        self.null_fd = os.open(os.devnull, os.O_RDONLY)
        self.home = os.getcwd()
        self.limits = [
            (resource.RLIMIT_FSIZE, (cfg["max_file_bytes"],) * 2),
            (resource.RLIMIT_NOFILE, (cfg["max_open_files"],) * 2),
            (resource.RLIMIT_CORE, (0, 0)),
        ]
        if cfg["memory_mb"]:
            limit = self.base_vm + cfg["memory_mb"] * 1024 * 1024
            self.limits.append((resource.RLIMIT_AS, (limit, limit)))
        # Inherited by every child: an oversize write raises EFBIG instead of killing it.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        confine_worker(cfg.get("seccomp_worker_bpf"))
        # Children would otherwise copy-on-write every page the collector touches.
        gc.collect()
        gc.freeze()

    # ---- parent side ------------------------------------------------------------------
    def run_job(self, job: dict) -> dict:
        cfg = self.cfg
        timeout = float(job.get("timeout") or cfg["timeout"])
        wall = timeout * cfg["wall_factor"] + 1.0
        private_tmp = bool(cfg.get("private_tmp"))
        if private_tmp:
            jobdir = "/tmp"  # this worker's own tmpfs, wiped after every job anyway
        else:
            import tempfile

            jobdir = tempfile.mkdtemp(prefix="job-", dir="/tmp" if os.path.isdir("/tmp") else None)
            if self.job_uid is not None:
                os.chown(jobdir, self.job_uid, self.job_uid)
        for fd in (self.stdout_fd, self.result_fd):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        self.codes.before_fork(job["code"])
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # child: never returns
            code = 70
            try:
                self.child(job, jobdir, timeout)
                code = EXIT_REPORTED
            except BaseException:
                code = 71
            finally:
                os._exit(code)
        timed_out = not wait_exit(pid, wall)
        if timed_out:
            self._kill(pid)
        _, wstatus, usage = os.wait4(pid, 0)
        elapsed = time.monotonic() - start
        cpu_used = usage.ru_utime + usage.ru_stime
        # Only now, with the child gone, does this process touch its heap again: a page
        # written while the child lives is copied; afterwards it is not.
        data, too_big = self._read_result()
        stdout, stdout_truncated = self._read_stdout(self.stdout_fd)
        self.codes.after_exit(job["code"])
        if private_tmp:
            self.scrub(("/tmp", "/dev/shm"))
        else:
            wipe_tree(jobdir, keep=frozenset(), remove_top=True)
        result = self.classify(job, data, too_big, timed_out, wstatus, elapsed, timeout, cpu_used)
        result["stdout"] = stdout
        result["stdout_truncated"] = stdout_truncated
        return result

    def _read_result(self) -> tuple[bytes, bool]:
        cap = self.cfg["max_output_bytes"]
        size = os.fstat(self.result_fd).st_size
        if size > cap:
            return b"", True
        return os.pread(self.result_fd, size, 0), False

    @staticmethod
    def _kill(pid: int) -> None:
        for target in (
            lambda: os.killpg(pid, signal.SIGKILL),
            lambda: os.kill(pid, signal.SIGKILL),
        ):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass

    def _read_stdout(self, fd: int) -> tuple[str, bool]:
        cap = self.cfg["max_stdout_bytes"]
        size = os.fstat(fd).st_size
        if not size:
            return "", False
        raw = os.pread(fd, min(cap, size), 0) if cap else b""
        return raw.decode("utf-8", errors="replace"), size > cap

    def classify(self, job, data, too_big, timed_out, wstatus, elapsed, timeout, cpu_used) -> dict:
        base = {"id": job["id"], "seconds": elapsed}
        if too_big:
            return {
                **base,
                "status": "output_too_large",
                "error": f"result over {self.cfg['max_output_bytes']} bytes",
            }
        if data:
            msg = child_message(data)
            if msg is not None:
                msg.update(base)
                return msg
            # torn or forged beyond use: fall through to the exit status
        if timed_out:
            return {
                **base,
                "status": "timeout",
                "error": f"wall-clock limit {timeout * self.cfg['wall_factor'] + 1:.1f}s",
            }
        if os.WIFSIGNALED(wstatus):
            sig = os.WTERMSIG(wstatus)
            if sig == signal.SIGSYS:
                return {**base, "status": "blocked", "signal": sig, "error": "denied system call"}
            if sig == signal.SIGKILL and cpu_used < max(1, int(timeout + 0.999)) - 0.05:
                # Not RLIMIT_CPU's hard kill (that comes a second after SIGXCPU), not the
                # wall backstop (timed_out): the kernel's OOM killer at the worker's cgroup cap.
                return {
                    **base,
                    "status": "memory",
                    "signal": sig,
                    "error": f"killed by SIGKILL after {cpu_used:.2f}s of CPU, under its limit: "
                    "out of memory (the worker's cgroup cap)",
                }
            if sig in (signal.SIGXCPU, signal.SIGKILL):
                return {
                    **base,
                    "status": "timeout",
                    "signal": sig,
                    "error": f"CPU limit {timeout:g}s",
                }
            if sig == signal.SIGXFSZ:
                return {
                    **base,
                    "status": "output_too_large",
                    "signal": sig,
                    "error": "file size limit",
                }
            return {
                **base,
                "status": "crashed",
                "signal": sig,
                "error": f"killed by {signal.Signals(sig).name}",
            }
        code = os.WEXITSTATUS(wstatus) if os.WIFEXITED(wstatus) else -1
        return {**base, "status": "no_result", "error": f"exited with code {code} without a result"}

    def scrub(self, dirs: tuple[str, ...]) -> None:
        """Inside bubblewrap /tmp and /dev/shm are this worker's own: leave nothing in them
        for the next job. Their files belong to the job uid, so when the worker dropped to
        its own uid it wipes as the job uid (its saved uid: no capability needed)."""
        dirty = [d for d in dirs if _has_entries(d, self.tmp_keep if d == "/tmp" else ())]
        if not dirty:
            return
        switch = self.job_uid is not None and os.geteuid() != 0
        if switch:
            os.setresuid(-1, self.job_uid, -1)
        try:
            for d in dirty:
                wipe_tree(d, self.tmp_keep if d == "/tmp" else frozenset())
        finally:
            if switch:
                os.setresuid(-1, os.getuid(), -1)

    # ---- child side -------------------------------------------------------------------
    def child(self, job: dict, jobdir: str, timeout: float) -> None:
        cfg = self.cfg
        os.setsid()
        os.dup2(self.null_fd, 0)
        os.dup2(self.stdout_fd, 1)
        os.dup2(self.stdout_fd, 2)
        w = os.dup2(self.result_fd, 3)
        os.dup2(self.codes.fd, CodeCache.CHILD_FD)
        os.closerange(CodeCache.CHILD_FD + 1, 65536)
        if jobdir != self.home:
            os.chdir(jobdir)
        cpu = max(1, int(timeout + 0.999))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        for which, value in self.limits:
            resource.setrlimit(which, value)
        if self.job_uid is not None:
            if os.getuid() == 0:
                os.setgroups([])  # a dropped worker has none left to clear
            # The worker's saved ids are the job's, so this needs no capability; from root
            # it clears every capability as well.
            os.setresgid(self.job_uid, self.job_uid, self.job_uid)
            os.setresuid(self.job_uid, self.job_uid, self.job_uid)
        if os.getuid() != 0:
            resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))
        if self.filter is not None:
            self.filter.load()
        sys.setrecursionlimit(cfg["recursion_limit"])
        seed = int(job.get("seed") or 0)
        random.seed(seed)
        if self.numpy is not None:
            self.numpy.random.seed(seed % (2**32))
        else:
            seed_numpy_on_import(seed % (2**32))
        msg = self.execute(job)
        payload = (self.encoder.encode(msg) + "\n").encode("utf-8", "replace")
        sys.stdout.flush()
        sys.stderr.flush()
        view = memoryview(payload)
        while view:
            n = os.write(w, view)
            view = view[n:]

    def execute(self, job: dict) -> dict:
        start = time.monotonic()
        input_repr = None
        try:
            namespace: dict = {"__name__": "__kodeio_seed__"}
            exec(self.codes.compile_in_child(job["code"]), namespace)
            if job.get("expr"):
                value = eval(compile(job["expr"], "<expr>", "eval"), namespace)
            else:
                fn = namespace.get(job["entry"])
                if not callable(fn):
                    raise NameError(f"entry function {job['entry']!r} is not defined by the code")
                args, kwargs = self.call_args(job.get("input"), namespace)
                # Spelled before the call, so a function that mutates its input is recorded
                # with the input as given (the CodeI/O release stored it after the call).
                input_repr = format_call_args(args, kwargs)
                value = fn(*args, **kwargs)
            elapsed = time.monotonic() - start
            if (
                isinstance(value, str | bytes | bytearray)
                and len(value) > self.cfg["max_output_bytes"]
            ):
                # Refuse before spending CPU (and memory) on the repr of a huge string.
                return {
                    "status": "output_too_large",
                    "error": f"output is {len(value)} chars",
                    "input_repr": input_repr,
                }
            out_repr = literal_repr(value)
            is_json, out_json = to_json_lossless(value)
            if len(out_repr) > self.cfg["max_output_bytes"]:
                return {
                    "status": "output_too_large",
                    "error": f"output repr is {len(out_repr)} chars",
                    "input_repr": input_repr,
                }
            return {
                "status": "ok",
                "output": out_json,
                "output_is_json": is_json,
                "output_repr": out_repr,
                "input_repr": input_repr,
                "child_seconds": elapsed,
            }
        except RecursionError as exc:
            return self.failure("recursion", exc, input_repr)
        except MemoryError as exc:
            return self.failure("memory", exc, input_repr)
        except OSError as exc:
            if exc.errno == errno.EFBIG:
                return self.failure("output_too_large", exc, input_repr)
            return self.failure("error", exc, input_repr)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt are seed errors too
            return self.failure("error", exc, input_repr)

    @staticmethod
    def call_args(given, namespace: dict) -> tuple[list, dict]:
        if given is None:
            return [], {}
        if isinstance(given, dict):
            return list(given.get("args") or []), dict(given.get("kwargs") or {})
        try:
            return parse_call_args(given)
        except ValueError:
            # Not plain literals (e.g. `f(*[1, 2])`); evaluating is safe only here, inside.
            captured = eval(
                compile(f"(lambda *a, **k: (list(a), k))({given})", "<input>", "eval"), namespace
            )
            return captured

    @staticmethod
    def failure(status: str, exc: BaseException, input_repr) -> dict:
        try:
            text = str(exc)
        except BaseException:
            text = "<unprintable>"
        if len(text) > 2000:
            text = text[:2000] + "…"
        name = type(exc).__name__
        tb = traceback.extract_tb(exc.__traceback__)
        lines = [
            f"{fr.name}:{fr.lineno}" for fr in tb if fr.filename in ("<seed>", "<expr>", "<input>")
        ]
        return {
            "status": status,
            "error": f"{name}: {text}" if text else name,
            "error_type": name,
            "input_repr": input_repr,
            "trace": lines[-5:],
        }


def seed_numpy_on_import(seed: int) -> None:
    """Seed numpy's global RNG when the job imports numpy itself (past the router), so a
    job gives the same result whichever fork server runs it."""
    real_import = builtins.__import__
    depth = 0

    def importing(name, *args, **kwargs):
        nonlocal depth
        depth += 1
        try:
            module = real_import(name, *args, **kwargs)
        finally:
            depth -= 1
        # Only once the outermost import is done: numpy imports itself while initialising.
        if depth == 0 and "numpy" in sys.modules:
            builtins.__import__ = real_import
            sys.modules["numpy"].random.seed(seed)
        return module

    builtins.__import__ = importing


def wait_exit(pid: int, seconds: float) -> bool:
    """Sleep until child `pid` exits (True) or `seconds` pass (False), without reaping it."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:  # kernels before 5.3
        deadline = time.monotonic() + seconds
        pause = 5e-5
        while time.monotonic() < deadline:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
            time.sleep(pause)
            pause = min(pause * 2, 0.01)
        return False
    try:
        ready, _, _ = select.select([fd], [], [], seconds)
        return bool(ready)
    finally:
        os.close(fd)


def make_undumpable() -> None:
    """Children share our uid; without this they could write to /proc/<worker>/mem."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception as exc:
        _log(f"could not clear the dumpable flag: {exc}")


def _has_entries(path: str, keep) -> bool:
    try:
        return any(name not in keep for name in os.listdir(path))
    except OSError:
        return False


def wipe_tree(top: str, keep: frozenset[str], remove_top: bool = False) -> None:
    """Remove everything under `top` but the names in `keep`, whatever modes a job set.

    Directories are made searchable before they are read: a job may leave one at mode 000
    (it owns it, and so does whoever runs this). Symlinks are removed, never followed."""
    try:
        os.chmod(top, 0o1777 if top == "/tmp" else 0o700)
    except OSError:
        pass  # not ours (root's /tmp inside bubblewrap): the job could not chmod it either
    try:
        entries = list(os.scandir(top))
    except OSError:
        entries = []
    for entry in entries:
        if entry.name in keep:
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                wipe_tree(entry.path, frozenset(), remove_top=True)
            else:
                os.unlink(entry.path)
        except OSError:
            pass
    if remove_top:
        try:
            os.rmdir(top)
        except OSError:
            pass


def child_message(data: bytes) -> dict | None:
    """The child's result message, reduced to known fields of the right types; None when it
    is not one. The child ran untrusted code, which could have written anything there."""
    try:
        msg = json.loads(data)
    except (ValueError, RecursionError, MemoryError):
        return None
    if not isinstance(msg, dict) or msg.get("status") not in STATUSES:
        return None
    out: dict = {"status": msg["status"]}
    for key in ("output_repr", "input_repr", "error", "error_type"):
        value = msg.get(key)
        if value is not None and not isinstance(value, str):
            return None
        if key in ("error", "error_type") and value is not None and len(value) > MAX_TEXT:
            value = value[:MAX_TEXT] + "…"
        out[key] = value
    is_json = msg.get("output_is_json") is True
    output = msg.get("output")
    if is_json and json_depth(output) > MAX_OUTPUT_DEPTH:
        is_json, output = False, None
    out["output_is_json"] = is_json
    out["output"] = output if is_json else None
    trace = msg.get("trace")
    if isinstance(trace, list):
        out["trace"] = [t[:MAX_TEXT] for t in trace[-5:] if isinstance(t, str)]
    seconds = msg.get("child_seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        out["child_seconds"] = float(seconds)
    return out


def json_depth(value) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list | dict):
            deepest = max(deepest, depth)
            if depth > MAX_OUTPUT_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def serve(run_job, proto_in, proto_out: int) -> None:
    """Answer one JSON result line per JSON job line until the input closes."""
    encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(..., ensure_ascii=False)
    for line in proto_in:
        if not line.strip():
            continue
        job = json.loads(line)
        try:
            result = run_job(job)
        except Exception as exc:  # a worker bug: report it against this job, keep serving
            _log(traceback.format_exc())
            result = {"status": "crashed", "error": f"sandbox worker: {exc}"}
        # Which job this answers: the host takes a result only for the job it expects.
        result["id"] = job.get("id")
        result["seq"] = job.get("seq")
        os.write(proto_out, (encode(result) + "\n").encode("utf-8", "replace"))


def uses_numpy(job: dict) -> bool:
    # A plain substring test: a miss (an obfuscated import) still runs, only slower.
    return "numpy" in job["code"] or "numpy" in (job.get("expr") or "")


class NumpyServer:
    """A second fork server, forked from this one on first need, that preloads numpy.

    numpy roughly triples the memory a fork must map and tear down, so the main server
    stays light and only the jobs that mention numpy pay for it."""

    def __init__(self, cfg: dict, inherited: list[int]) -> None:
        self.cfg = dict(cfg, preload_numpy=True)
        self.inherited = inherited  # the main server's protocol fds: closed in the child
        self.pid = 0
        self.to_server = -1
        self.from_server = None

    def run_job(self, job: dict) -> dict:
        if not self.pid:
            self._start()
        os.write(self.to_server, (json.dumps(job, ensure_ascii=False) + "\n").encode("utf-8"))
        line = self.from_server.readline()
        if line:
            return json.loads(line)
        self.stop()
        return {"id": job.get("id"), "status": "crashed", "error": "sandbox numpy server died"}

    def _start(self) -> None:
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for fd in (job_w, res_r, *self.inherited):
                    os.close(fd)
                import ctypes

                ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
                serve(Worker(self.cfg).run_job, os.fdopen(job_r, "rb", buffering=1 << 16), res_w)
            except BaseException:
                _log(traceback.format_exc())
                code = 1
            finally:
                os._exit(code)
        os.close(job_r)
        os.close(res_w)
        self.pid, self.to_server = pid, job_w
        self.from_server = os.fdopen(res_r, "rb")

    def stop(self) -> None:
        if self.pid:
            os.close(self.to_server)
            self.from_server.close()
            os.waitpid(self.pid, 0)
            self.pid = 0


def drop_worker_privileges(cfg: dict) -> None:
    """Started as root inside bubblewrap: become the worker uid for good, keeping the job uid
    as the saved uid, so that children can switch to it without any capability. Changing
    every id away from 0 clears all capabilities and the dumpable flag."""
    worker, job = cfg.get("worker_uid"), cfg.get("job_uid")
    if worker is None or os.getuid() != 0:
        return
    os.setgroups([])
    os.setresgid(worker, worker, job)
    os.setresuid(worker, worker, job)
    # This also cleared bwrap's --die-with-parent (PR_SET_PDEATHSIG), and setting it again
    # would not help: bwrap has dropped CAP_KILL and this is no longer its uid. What ends
    # this process is the host's killpg of bwrap's group, or EOF on the protocol pipe once
    # the host is gone; its children die with it, as it is pid 1 of their namespace.


def main() -> None:
    cfg = json.loads(sys.argv[1])
    # Only the protocol pipes and stderr are ours; nothing else may reach a child.
    os.closerange(3, 65536)
    drop_worker_privileges(cfg)
    make_undumpable()
    proto_in = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    proto_out = os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)  # nothing but results may reach the protocol pipe
    numpy_jobs = None
    if cfg.get("preload_numpy", True):
        numpy_jobs = NumpyServer(cfg, [proto_in.fileno(), proto_out])
        cfg = dict(cfg, preload_numpy=False)
    worker = Worker(cfg)

    def route(job: dict) -> dict:
        if numpy_jobs is not None and uses_numpy(job):
            return numpy_jobs.run_job(job)
        return worker.run_job(job)

    os.write(proto_out, (json.dumps({"ready": True, "pid": os.getpid()}) + "\n").encode())
    serve(route, proto_in, proto_out)
    if numpy_jobs is not None:
        numpy_jobs.stop()


if __name__ == "__main__":
    main()
