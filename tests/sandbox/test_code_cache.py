"""Seeds compiled once per worker: later children load the code an earlier child compiled.

The cache must change nothing a job can see, and a seed must never reach the channel its
compiled code travels through.
"""

from __future__ import annotations

import os

from kodeio.sandbox import Job, Sandbox, SandboxConfig

SEEDS = {
    "sum": ("def f(xs):\n    return sum(xs)", {"args": [[1, 2, 3]]}),
    "prints": ("def f(x):\n    print('seen', x)\n    return [x, x]", {"args": [7]}),
    "raises": ("def f(x):\n    return 1 / x", {"args": [0]}),
    "syntax": ("def f(x)\n    return x", {"args": [1]}),
    "global": ("calls = []\ndef f(x):\n    calls.append(x)\n    return len(calls)", {"args": [5]}),
}
# Fd 4 carries the compiled code from the first child to run a seed back to the worker.
WRITE_FD_4 = "import os\ntry:\n    os.write(4, b'forged')\n    TOP = 'wrote'\nexcept OSError as e:\n    TOP = e.strerror\ndef f():\n    return TOP"  # fmt: skip


def _view(result):
    return (result.status, result.output, result.error, result.stdout, result.input_repr)


def test_a_seed_run_again_gives_what_its_first_run_gave():
    jobs = [
        Job(id=f"{name}-{i}", code=code, entry="f", input=given)
        for i in range(3)
        for name, (code, given) in SEEDS.items()
    ]
    with Sandbox(SandboxConfig(workers=1)) as sb:
        results = {r.id: r for r in sb.run(jobs)}
    for name in SEEDS:
        first, *again = (_view(results[f"{name}-{i}"]) for i in range(3))
        assert again == [first, first], name
    assert results["sum-2"].output == 6
    assert results["prints-1"].stdout == "seen 7\n"
    assert results["raises-2"].error.startswith("ZeroDivisionError")
    assert results["syntax-1"].status == "error" and "SyntaxError" in results["syntax-1"].error
    assert results["global-2"].output == 1  # module state starts afresh in every child


def test_seed_code_cannot_reach_the_compiled_code_channel():
    with Sandbox(SandboxConfig(workers=1)) as sb:
        results = list(sb.run([Job(id=str(i), code=WRITE_FD_4, entry="f") for i in range(3)]))
    assert [r.output for r in results] == ["Bad file descriptor"] * 3


def test_only_whole_blobs_are_kept_and_the_oldest_go_first(worker_module):
    cache = worker_module.CodeCache()
    header = cache.HEADER

    def child_wrote(data: bytes) -> None:
        os.ftruncate(cache.fd, 0)
        os.pwrite(cache.fd, data, 0)

    child_wrote(header.pack(10) + b"short")  # torn: fewer bytes than announced
    cache.after_exit("torn")
    assert "torn" not in cache.blobs
    for i in range(cache.MAX_ENTRIES + 2):
        child_wrote(header.pack(3) + b"abc")
        cache.after_exit(f"seed {i}")
    assert len(cache.blobs) == cache.MAX_ENTRIES
    assert "seed 0" not in cache.blobs and "seed 1" not in cache.blobs
    assert cache.blobs[f"seed {cache.MAX_ENTRIES + 1}"] == b"abc"
    cache.before_fork("seed 2")  # a hit becomes the most recent
    assert list(cache.blobs)[-1] == "seed 2"
    os.close(cache.fd)
