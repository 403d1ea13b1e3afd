"""Run a stage's chunks as Ray tasks and hand their results back in seed order.

The driver reads the seeds (so a malformed row stops the run before anything starts) and
cuts the unfinished ones into contiguous chunks. Each chunk is a Ray task that builds its
own `Sandbox` on whichever node runs it: bubblewrap and seccomp are per machine, never
shipped. A task returns plain JSON outcomes; the driver settles them against every earlier
seed in ordinal order and appends them to the same resumable files a single machine would
write, so the bytes are the same. Ray retries a task whose worker or node died; a driver
that dies leaves the ledger, and a rerun submits only the seeds it lacks.
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from kodeio.errors import KodeioError

if TYPE_CHECKING:
    from kodeio.synth.config import SynthConfig
    from kodeio.synth.io.config import IoConfig
    from kodeio.synth.io.seeds import RawCode, Seed
    from kodeio.synth.verify.config import VerifyRunConfig
    from kodeio.synth.verify.engine import VerifyItem

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


def _io_chunk(config_json: dict[str, Any], chunk: list[tuple[int, Any]]) -> list[dict[str, Any]]:
    """One Ray task: the unsettled outcomes of a contiguous chunk of seeds."""
    from kodeio.synth.io.config import IoConfig
    from kodeio.synth.io.stage import IoStage

    stage = IoStage(IoConfig.model_validate(config_json))
    try:
        return stage.outcomes(chunk)
    finally:
        stage.close()


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _reraise(exc: Exception) -> None:
    """A task's KodeioError reaches the user as its own one line, not Ray's traceback."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, KodeioError):
        raise type(cause)(*cause.args) from None
    raise exc


def _verify_chunk(config_json: dict[str, Any], items: list[Any]) -> list[dict[str, Any]]:
    """One Ray task: verdict rows of a batch of predictions, in order."""
    from kodeio.synth.verify.config import VerifyRunConfig
    from kodeio.synth.verify.engine import verify

    return [v.to_row() for v in verify(items, VerifyRunConfig.model_validate(config_json))]


def _synth_chunk(config_json: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One Ray task: a whole `synth run` over a chunk of pairs, in a temp dir on its node.

    Returns the chunk's traces as text (in pair order, byte for byte), its journal rows and
    its counters. The model is reached over HTTP (the openai backend's replica list), so a
    task holds no engine: a rerun after its worker died just asks the replicas again.
    """
    import tempfile
    from pathlib import Path

    from kodeio.files import read_jsonl, write_jsonl
    from kodeio.llm.journal import journal_path
    from kodeio.synth.config import SynthConfig
    from kodeio.synth.pipeline import SynthRun

    with tempfile.TemporaryDirectory(prefix="kodeio-synth-") as tmp:
        pairs, output = Path(tmp) / "pairs.jsonl", Path(tmp) / "traces.jsonl"
        write_jsonl(pairs, rows)
        update = {"pairs": pairs, "output": output, "ray": None, "shard": None,
                  "max_pairs": None, "keep_journal": True, "run_dir": None}  # fmt: skip
        config = SynthConfig.model_validate(config_json).model_copy(update=update)
        stats = SynthRun(config, progress=False).run()
        return [
            {
                "traces": output.read_text(encoding="utf-8").splitlines(),
                "journal": read_jsonl(journal_path(output)),
                "generated_requests": stats.generated_requests,
                "replayed_requests": stats.replayed_requests,
                "retries": stats.retries,
                "engine_seconds": stats.engine_seconds,
            }
        ]


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


def run_io_on_ray(
    config: IoConfig, todo: list[tuple[int, Seed | RawCode]]
) -> Iterator[dict[str, Any]]:
    """Unsettled outcomes of every seed in `todo`, in `todo` order, computed by Ray tasks."""
    if todo:
        yield from run_in_order(config, _io_chunk, _chunks(todo, config.chunk_seeds))


def run_verify_on_ray(
    config: VerifyRunConfig, items: Iterable[VerifyItem]
) -> Iterator[dict[str, Any]]:
    """Verdict rows of `items`, in order, judged by Ray tasks of `batch_size` items."""
    it = iter(items)
    chunks = iter(lambda: list(islice(it, config.batch_size)), [])
    yield from run_in_order(config, _verify_chunk, chunks)


def run_synth_on_ray(config: SynthConfig, rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """One result per chunk of `chunk_pairs` pair rows, in order, each a Ray task's run."""
    if rows:
        yield from run_in_order(config, _synth_chunk, _chunks(rows, config.chunk_pairs))


def _get(ray: Any, ref: Any) -> list[Any]:
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        _reraise(exc)
        raise
