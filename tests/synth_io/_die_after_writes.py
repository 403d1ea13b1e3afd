"""Run the I/O stage in this process and kill it (os._exit, like kill -9) after N row writes.

Used by test_resume.py: argv[1] is the IoConfig as JSON, argv[2] the number of writes to
allow. The N+1-th write leaves half a line behind before the process dies.
"""

from __future__ import annotations

import os
import sys

from kodeio.files import ResumableJsonl, dumps
from kodeio.synth.io.config import IoConfig
from kodeio.synth.io.stage import run_io

config = IoConfig.model_validate_json(sys.argv[1])
budget = int(sys.argv[2])
original = ResumableJsonl.write
writes = 0


def dying_write(self: ResumableJsonl, row: dict) -> None:
    global writes
    if self.key == "id":  # rows and rejects; the ledger is written after them
        writes += 1
        if writes > budget:
            self._fh.write(dumps(row)[: len(dumps(row)) // 2])  # a torn line
            self._fh.flush()
            os._exit(137)
    original(self, row)


ResumableJsonl.write = dying_write  # type: ignore[method-assign]
run_io(config)
