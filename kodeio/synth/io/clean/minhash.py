"""MinHash signatures over token shingles (within lines), and an LSH index that finds near matches.

The MinHash is the textbook one (datasketch's scheme: `(a * h + b) mod (2^61 - 1)` over
32-bit shingle hashes), written with numpy so that one seed costs one vectorised step and
no per-object setup; shingle hashes come from BLAKE2b, so signatures and therefore the kept
file are the same bytes in every run and process. The LSH index splits a signature into
bands and lists every stored signature sharing a band; candidates are confirmed with the
estimated Jaccard similarity, so the threshold is the one stated, not the banding's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

MERSENNE = np.uint64((1 << 61) - 1)
MAX_HASH = np.uint64((1 << 32) - 1)


def shingles(tokens: Sequence[str], size: int) -> set[tuple[str, ...]]:
    """Every run of `size` consecutive tokens; the whole stream when it is shorter."""
    if len(tokens) <= size:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def line_shingles(lines: Sequence[Sequence[str]], size: int) -> set[tuple[str, ...]]:
    """Shingles that never cross a line: reordering independent statements keeps the set."""
    out: set[tuple[str, ...]] = set()
    for line in lines:
        out |= shingles(line, size)
    return out


def shingle_hash(shingle: tuple[str, ...]) -> int:
    data = "\x1f".join(shingle).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


class MinHasher:
    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        rng = np.random.RandomState(seed)
        self.num_perm = num_perm
        # a, b below 2^31 and hashes below 2^32: a * h + b stays below 2^64, so the uint64
        # arithmetic never wraps and the modular step is the one the method assumes.
        self.a = rng.randint(1, 1 << 31, size=num_perm, dtype=np.uint64)
        self.b = rng.randint(0, 1 << 31, size=num_perm, dtype=np.uint64)

    def signature(self, items: set[tuple[str, ...]]) -> np.ndarray | None:
        """The signature of a shingle set (uint32 values); None for an empty set."""
        if not items:
            return None
        hashes = np.fromiter(
            (shingle_hash(s) & 0xFFFFFFFF for s in items), dtype=np.uint64, count=len(items)
        )
        values = (np.outer(hashes, self.a) + self.b) % MERSENNE & MAX_HASH
        return values.min(axis=0).astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of the two shingle sets."""
    return float(np.count_nonzero(a == b)) / len(a)


class LshIndex:
    """Signatures under keys; `best` returns the most similar stored key at or above threshold."""

    def __init__(self, num_perm: int, threshold: float, bands: int = 16) -> None:
        if num_perm % bands:
            raise ValueError(f"num_perm {num_perm} must be a multiple of bands {bands}")
        self.threshold = threshold
        self.bands = bands
        self.rows = num_perm // bands
        self.buckets: list[dict[bytes, list[int]]] = [{} for _ in range(bands)]
        self.signatures: list[np.ndarray] = []
        self.keys: list[object] = []

    def _band_keys(self, signature: np.ndarray) -> list[bytes]:
        r = self.rows
        return [signature[i * r : (i + 1) * r].tobytes() for i in range(self.bands)]

    def add(self, key: object, signature: np.ndarray) -> None:
        index = len(self.keys)
        self.keys.append(key)
        self.signatures.append(signature)
        for bucket, band in zip(self.buckets, self._band_keys(signature), strict=True):
            bucket.setdefault(band, []).append(index)

    def best(self, signature: np.ndarray) -> tuple[object, float] | None:
        """(key, similarity) of the closest stored signature over the threshold; the earliest
        stored on a tie, so the answer does not depend on bucket order."""
        candidates: set[int] = set()
        for bucket, band in zip(self.buckets, self._band_keys(signature), strict=True):
            candidates.update(bucket.get(band, ()))
        found: tuple[int, float] | None = None
        for index in sorted(candidates):
            score = similarity(signature, self.signatures[index])
            if score >= self.threshold and (found is None or score > found[1]):
                found = (index, score)
        return None if found is None else (self.keys[found[0]], found[1])
