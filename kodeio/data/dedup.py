"""Exact and near-duplicate removal for the mix.

Exact: a BLAKE2b hash of the normalized text (NFKC, case-folded, punctuation and whitespace
removed), so "Hello, world!" and "hello world" collide. Near: MinHash over character
n-grams of the same normalized text with an LSH index (datasketch); character shingles
work for Korean, which has no reliable word boundaries without a morphological analyzer.
The first occurrence wins, so source order in the config is the priority order.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Any


def normalize_for_dedup(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(
        ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P")
    )


def exact_key(text: str) -> bytes:
    return hashlib.blake2b(normalize_for_dedup(text).encode("utf-8"), digest_size=16).digest()


def shingles(normalized: str, n: int) -> set[bytes]:
    if len(normalized) <= n:
        return {normalized.encode("utf-8")}
    return {normalized[i : i + n].encode("utf-8") for i in range(len(normalized) - n + 1)}


@dataclass
class DedupStats:
    exact: int = 0
    near: int = 0


class Deduplicator:
    """Feed texts in priority order; `is_duplicate` says whether to drop each one."""

    def __init__(
        self,
        *,
        exact: bool = True,
        near: bool = True,
        threshold: float = 0.85,
        num_perm: int = 128,
        ngram: int = 5,
        seed: int = 1,
    ) -> None:
        self.exact = exact
        self.near = near
        self.ngram = ngram
        self.num_perm = num_perm
        self.seed = seed
        self.stats = DedupStats()
        self._seen: set[bytes] = set()
        self._lsh: Any = None
        self._count = 0
        # Only the signature arrays are kept (num_perm uint64 each), not MinHash objects.
        self._signatures: dict[str, Any] = {}
        self._scheme: str | None = None  # of this datasketch's MinHash, for replayed values
        if near:
            from datasketch import MinHashLSH

            self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
            self._threshold = threshold

    def _minhash(self, normalized: str) -> Any:
        from datasketch import MinHash

        mh = MinHash(num_perm=self.num_perm, seed=self.seed)
        mh.update_batch(list(shingles(normalized, self.ngram)))
        return mh

    def _key(self, text: str) -> tuple[str, bytes]:
        normalized = normalize_for_dedup(text)
        return normalized, hashlib.blake2b(normalized.encode("utf-8"), digest_size=16).digest()

    def _is_exact(self, key: bytes) -> bool:
        if self.exact and key in self._seen:
            self.stats.exact += 1
            return True
        return False

    def _near_minhash(self, normalized: str, near: bool | None) -> Any:
        use_near = self.near if near is None else (near and self.near)
        return self._minhash(normalized) if use_near and normalized else None

    def is_duplicate(self, text: str, near: bool | None = None) -> str | None:
        """'exact', 'near' or None (new text, now remembered).

        `near=False` skips the MinHash check for this text (and does not index it), e.g. for
        code-execution traces whose prompts legitimately differ only in a small input.
        """
        normalized, key = self._key(text)
        if self._is_exact(key):
            return "exact"
        return self._admit(key, self._near_minhash(normalized, near))

    def signature(self, text: str, near: bool | None = None) -> tuple[bytes, Any]:
        """What `is_duplicate` computes from a text, deciding nothing: its exact key and its
        MinHash values (None where the near check is off). The costly part, so a sharded
        mix computes it in its shards and `replay` decides in order later."""
        normalized, key = self._key(text)
        mh = self._near_minhash(normalized, near)
        return key, None if mh is None else mh.hashvalues

    def replay(self, key: bytes, hashvalues: Any) -> str | None:
        """`is_duplicate` of a text whose `signature` was computed elsewhere: same verdicts."""
        if self._is_exact(key):
            return "exact"
        mh = None
        if hashvalues is not None:
            from datasketch import LeanMinHash

            if self._scheme is None:
                self._scheme = self._minhash("").scheme
            mh = LeanMinHash(seed=self.seed, hashvalues=hashvalues, scheme=self._scheme)
        return self._admit(key, mh)

    def _admit(self, key: bytes, mh: Any) -> str | None:
        if mh is not None:
            # LSH gives candidates; confirm with the estimated Jaccard so the threshold holds.
            for other in self._lsh.query(mh):
                agreement = float((mh.hashvalues == self._signatures[other]).mean())
                if agreement >= self._threshold:
                    self.stats.near += 1
                    return "near"
            name = str(self._count)
            self._lsh.insert(name, mh)
            self._signatures[name] = mh.hashvalues
        self._seen.add(key)
        self._count += 1
        return None
