"""Jobs that mention numpy run in a second fork server that preloads it; the rest stay light."""

from __future__ import annotations

from kodeio.sandbox import Job, Sandbox, SandboxConfig

LOADED = "import sys\ndef f():\n    return 'nu' + 'mpy' in sys.modules  # not routed by name"
NP_DRAW = "import numpy as np\ndef f(n):\n    return np.random.randint(0, 10**6, n).tolist()"
# The same draw without the word the router looks for: numpy is imported by the child itself.
HIDDEN_DRAW = (
    "def f(n):\n    m = __import__('nu' + 'mpy')\n    return m.random.randint(0, 10**6, n).tolist()"
)
POISON = "import numpy as np\ndef f():\n    np.add = None\n    np.random.seed(123)\n    return 1"
NP_SUM = "import numpy as np\ndef f(xs):\n    return int(np.add.reduce(np.array(xs)))"
NP_FORK = "import numpy as np\nimport os\ndef f():\n    return os.fork()"


def _jobs() -> list[Job]:
    return [
        Job(id="light", code=LOADED, entry="f"),
        Job(id="np-loaded", code="import numpy\n" + LOADED, entry="f"),
        Job(id="draw", code=NP_DRAW, entry="f", input={"args": [5]}, seed=7),
        Job(id="hidden", code=HIDDEN_DRAW, entry="f", input={"args": [5]}, seed=7),
        Job(id="poison", code=POISON, entry="f"),
        Job(id="sum", code=NP_SUM, entry="f", input={"args": [[1, 2, 3]]}),
        Job(id="draw-again", code=NP_DRAW, entry="f", input={"args": [5]}, seed=7),
        Job(id="fork", code=NP_FORK, entry="f"),
        Job(id="sum-after-fork", code=NP_SUM, entry="f", input={"args": [[4, 5]]}),
        Job(id="light-after", code=LOADED, entry="f"),
    ]


def test_numpy_jobs_are_routed_seeded_and_isolated():
    with Sandbox(SandboxConfig(workers=2, timeout=5.0)) as sb:
        results = {r.id: r for r in sb.run(_jobs())}
        rerun = {r.id: r for r in sb.run(_jobs())}
    assert [r.status for r in results.values()].count("ok") == 9, results
    # The main server never imports numpy; the numpy server has it before the code runs.
    assert results["light"].output is False
    assert results["light-after"].output is False
    assert results["np-loaded"].output is True
    # Seeded from the job, whichever server ran it and however numpy was imported.
    assert results["draw"].output == results["hidden"].output == results["draw-again"].output
    assert results["draw"].output == rerun["draw"].output
    # A poisoned numpy module or RNG does not reach the next job; fork is still denied.
    assert results["sum"].output == 6
    assert results["fork"].status == "blocked"
    assert results["sum-after-fork"].output == 9


def test_without_preloading_numpy_jobs_still_run():
    jobs = [j for j in _jobs() if j.id in {"light", "draw", "hidden"}]
    with Sandbox(SandboxConfig(workers=1, timeout=5.0, preload_numpy=False)) as sb:
        results = {r.id: r for r in sb.run(jobs)}
    assert results["light"].output is False
    assert results["draw"].status == "ok"
    assert results["draw"].output == results["hidden"].output
