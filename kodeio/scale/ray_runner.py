"""Run a stage's chunks as Ray tasks and hand their results back in chunk order.

This module knows no stage: a stage passes its own task function (`task(config_json,
chunk)`, defined at the top level of its module so Ray can import it on any node) and its
chunks to `run_in_order`. The driver reads its inputs (so a malformed row stops the run
before anything starts) and cuts the unfinished ones into contiguous chunks. Each task
builds its own `Sandbox` on whichever node runs it: bubblewrap and seccomp are per
machine, never shipped. A task returns plain JSON; the driver settles the results in
order and appends them to the same resumable files a single machine would write, so the
bytes are the same. Ray retries a task whose worker or node died; a driver that dies
leaves the stage's ledger, and a rerun submits only what it lacks.
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from kodeio.errors import KodeioError

# Tasks in flight per CPU the cluster has: enough to keep every node busy while the driver
# waits on the oldest chunk, few enough that results do not pile up in the object store.
IN_FLIGHT_PER_CPU = 2
CONNECT_TIMEOUT_S = 10


def connect(address: str) -> None:
    """Attach to `address`; `auto` attaches to a running cluster or else starts a local one."""
    try:
        import ray
    except ImportError:
        raise KodeioError("--ray needs Ray: pip install 'kodeio[ray]'") from None

    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    if address == "auto":
        try:
            ray.init(address="auto", **kwargs)
        except ConnectionError:
            ray.init(include_dashboard=False, **kwargs)
        return
    _check_reachable(address)
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, ValueError) as exc:
        raise KodeioError(f"--ray {address}: no Ray cluster there ({exc})") from None


def _check_reachable(address: str) -> None:
    """Fail in seconds, with one line, where Ray itself would retry for minutes."""
    if "://" in address:
        return  # ray:// client addresses and the like: left to Ray
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise KodeioError(f"--ray {address!r}: expected HOST:PORT of a Ray head, or auto")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise KodeioError(
            f"--ray {address}: no Ray head answers there ({exc.strerror or exc}); "
            "start one with `ray start --head`, or use --ray auto"
        ) from None


def chunked(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    """`items` cut into consecutive lists of `size` (the last may be shorter)."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _reraise(exc: Exception) -> None:
    """A task's KodeioError reaches the user as its own one line, not Ray's traceback."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, KodeioError):
        raise type(cause)(*cause.args) from None
    raise exc


def run_in_order(
    config: Any, task: Callable[..., list[Any]], chunks: Iterable[list[Any]]
) -> Iterator[Any]:
    """Run `task(config, chunk)` for every chunk as Ray tasks; yield results in chunk order.

    `config` is a stage config with `ray`, `ray_task_cpus`, `ray_retries` and `sandbox`.
    Tasks go out in a bounded window and come back oldest first, so the driver writes in
    the single-run order while the cluster works ahead.
    """
    assert config.ray is not None
    connect(config.ray)
    import ray

    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    task_cpus = config.ray_task_cpus
    # The task's sandbox gets as many workers as CPUs the task reserved on its node.
    workers = max(1, int(task_cpus))
    task_config = config.model_copy(
        update={"sandbox": config.sandbox.model_copy(update={"workers": workers})}
    ).model_dump(mode="json")
    remote = ray.remote(num_cpus=task_cpus, max_retries=config.ray_retries)(task)
    window = max(2, IN_FLIGHT_PER_CPU * int(cpus / task_cpus))
    config_ref = ray.put(task_config)
    pending: deque[Any] = deque()
    for chunk in chunks:
        pending.append(remote.remote(config_ref, chunk))
        if len(pending) >= window:
            yield from _get(ray, pending.popleft())
    while pending:
        yield from _get(ray, pending.popleft())


def _get(ray: Any, ref: Any) -> list[Any]:
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        _reraise(exc)
        raise
