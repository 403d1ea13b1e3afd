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
        if near:
            from datasketch import MinHashLSH

            self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
            self._threshold = threshold

    def _minhash(self, normalized: str) -> Any:
        from datasketch import MinHash

        mh = MinHash(num_perm=self.num_perm, seed=self.seed)
        mh.update_batch(list(shingles(normalized, self.ngram)))
        return mh

    def is_duplicate(self, text: str, near: bool | None = None) -> str | None:
        """'exact', 'near' or None (new text, now remembered).

        `near=False` skips the MinHash check for this text (and does not index it), e.g. for
        code-execution traces whose prompts legitimately differ only in a small input.
        """
        near = self.near if near is None else (near and self.near)
        normalized = normalize_for_dedup(text)
        key = hashlib.blake2b(normalized.encode("utf-8"), digest_size=16).digest()
        if self.exact and key in self._seen:
            self.stats.exact += 1
            return "exact"
        if near and normalized:
            mh = self._minhash(normalized)
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
