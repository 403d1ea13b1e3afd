"""A test Unifier that kills the Ray worker running it, once, mid-run.

It wraps every raw function `f(x)` into CodeI/O's shape. Inside the test cluster (where
KODEIO_TEST_DIE_MARKER is set) the first call that meets a seed named `die*` leaves the
marker file and exits the worker process at once, like a kill -9 or an OOM kill. Ray then
reruns that task on another worker. Outside the cluster it never dies, so a plain run of
the same corpus is the reference.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from kodeio.synth.io.seeds import RawCode, Seed
from kodeio.synth.io.unifier import unified_seed

GENERATOR = "import random\n\ndef input_generator():\n    return {'x': random.randint(0, 50)}\n"


class WrapF:
    def unify(self, raw: Sequence[RawCode]) -> list[Seed | None]:
        marker = os.environ.get("KODEIO_TEST_DIE_MARKER")
        if marker and not Path(marker).exists() and any("die" in r.id for r in raw):
            Path(marker).write_text(str(os.getpid()))
            os._exit(137)
        out: list[Seed | None] = []
        for item in raw:
            if "f" not in item.functions:
                out.append(None)
                continue
            code = item.code + "\n\ndef main_solution(x):\n    return f(x)\n"
            out.append(unified_seed(item, code, GENERATOR, "Apply f.", "x: int", "math"))
        return out
