"""MinHash signatures as text, so shard ledgers (JSONL) can carry them to the merge."""

from __future__ import annotations

import base64
from typing import Any


def encode_minhash(values: Any) -> str:
    import numpy as np

    return base64.b64encode(np.asarray(values, dtype="<u8").tobytes()).decode("ascii")


def decode_minhash(text: str) -> Any:
    import numpy as np

    return np.frombuffer(base64.b64decode(text), dtype="<u8").astype(np.uint64)
