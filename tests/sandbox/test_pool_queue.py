"""The host pool queues jobs on its workers; a worker that dies or retires loses none."""

from __future__ import annotations

import os
import signal
import threading
import time

from kodeio.sandbox import Job, Sandbox, SandboxConfig
from kodeio.sandbox.pool import QUEUE_DEPTH

SLOW = Job(id="slow", code="def f():\n    while True:\n        pass", entry="f", timeout=20)


def _double(i: int) -> Job:
    return Job(id=f"q{i}", code="def f(x):\n    return 2 * x", entry="f", input={"args": [i]})


def test_jobs_queued_behind_a_dead_workers_job_run_once_elsewhere():
    seen_queue: list[int] = []
    with Sandbox(SandboxConfig(workers=1, timeout=20)) as sb:

        def kill_worker() -> None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(sb._workers[0].queue) < QUEUE_DEPTH:
                time.sleep(0.01)
            time.sleep(0.3)  # the slow job is running now
            seen_queue.append(len(sb._workers[0].queue))
            os.killpg(sb._workers[0].proc.pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_worker)
        killer.start()
        results = list(sb.run([SLOW, *(_double(i) for i in range(5))]))
        killer.join()
        restarts = sb.restarts

    assert seen_queue == [QUEUE_DEPTH]  # a job was waiting behind the slow one
    assert [r.id for r in results] == ["slow", "q0", "q1", "q2", "q3", "q4"]
    assert results[0].status == "crashed" and "worker died" in (results[0].error or "")
    assert [r.output for r in results[1:]] == [0, 2, 4, 6, 8]
    assert restarts == 1


def test_retiring_workers_take_no_job_past_their_limit():
    jobs = [_double(i) for i in range(11)]
    with Sandbox(SandboxConfig(workers=2, jobs_per_worker=3)) as sb:
        results = list(sb.run(jobs))
        restarts = sb.restarts
    assert [r.output for r in results] == [2 * i for i in range(11)]
    assert all(r.status == "ok" for r in results)
    assert restarts >= 3  # 11 jobs at 3 per worker life


def test_a_job_whose_send_fails_runs_once_on_the_replacement():
    with Sandbox(SandboxConfig(workers=1)) as sb:
        dead = sb._workers[0]
        os.killpg(dead.proc.pid, signal.SIGKILL)
        # The fork server inside dies with bwrap, a moment later: once its end of the result
        # pipe is closed, its end of the job pipe is too, and the next send hits a dead pipe.
        # The host has not noticed.
        while os.read(dead.fd, 1 << 16):
            pass
        # bwrap, outside, holds a copy of the job pipe's reading end until it has exited too.
        dead.proc.wait(timeout=10)
        results = list(sb.run([_double(21)]))
        restarts = sb.restarts
        left_queued = sum(len(w.queue) for w in sb._workers)
    assert [(r.status, r.output) for r in results] == [("ok", 42)], results
    # A second copy of the job would still sit queued and cost a second replacement.
    assert (restarts, left_queued) == (1, 0)
