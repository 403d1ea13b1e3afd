"""The tests a seed is put to: contamination against benchmark functions, duplication
against the seeds kept before it.

Contamination (`BenchmarkIndex.match`), in this order, the first that fires is reported:
- `exact`: the same canonical source (`normalise.normalise`), or one top-level function of
  a larger seed with the same canonical source as a benchmark function (at least
  `part_min_tokens` tokens long: one-line helpers are everywhere);
- `io`: one of the seed's recorded (call, result) pairs is one a benchmark records;
- `ngram`: the share of shared token n-grams (default 8, as open-r1) over the larger of the
  two functions' n-gram counts reaches `ngram_threshold`. N-grams found in many benchmark
  functions are boilerplate (a signature with placeholder names, `return [V, V]`), not
  evidence, and are left out of both counts. Over the larger count, not the smaller: short
  functions share a statement by chance often enough that containment of the smaller one
  flags a third of a generated corpus (bench/clean.py); a benchmark function pasted whole
  into a larger seed is the `exact` test's (its parts), an edited one is missed;
- `minhash`: estimated Jaccard similarity of token shingles (each within one statement line,
  so reordered statements keep theirs) at or above `minhash_threshold`.

Duplication (`SeedIndex`): the same canonical source as a kept seed (`exact`), or MinHash
similarity at or above the threshold (`minhash`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from kodeio.errors import InputError
from kodeio.synth.io.clean.benchmarks import BenchItem
from kodeio.synth.io.clean.minhash import LshIndex, MinHasher, line_shingles, shingles
from kodeio.synth.io.clean.normalise import Normalised


@dataclass(frozen=True)
class Match:
    method: str  # exact | io | ngram | minhash
    source: str  # the benchmark's name, or "seeds" for a duplicate
    id: str
    score: float


@dataclass(frozen=True)
class Fingerprint:
    """What the tests need from one function, computed once."""

    key: bytes  # digest of the canonical source
    parts: tuple[tuple[bytes, int], ...]  # digest and token count of each top-level function
    tokens: tuple[str, ...]
    signature: np.ndarray | None


def exact_key(source: str) -> bytes:
    return hashlib.blake2b(source.encode("utf-8"), digest_size=16).digest()


class Fingerprinter:
    def __init__(self, shingle: int, num_perm: int, seed: int = 1) -> None:
        self.shingle = shingle
        self.hasher = MinHasher(num_perm, seed)

    def __call__(self, normalised: Normalised) -> Fingerprint:
        sig = self.hasher.signature(line_shingles(normalised.lines, self.shingle))
        parts = tuple((exact_key(text), n) for text, n in normalised.parts)
        return Fingerprint(exact_key(normalised.source), parts, normalised.tokens, sig)


def ngrams(tokens: tuple[str, ...], n: int) -> set[tuple[str, ...]]:
    return shingles(tokens, n)


class BenchmarkIndex:
    def __init__(
        self,
        items: list[tuple[BenchItem, Fingerprint]],
        *,
        ngram: int,
        ngram_threshold: float,
        boilerplate_share: float,
        minhash: LshIndex,
        io_min_chars: int,
        part_min_tokens: int,
    ) -> None:
        self.ngram = ngram
        self.ngram_threshold = ngram_threshold
        self.io_min_chars = io_min_chars
        self.part_min_tokens = part_min_tokens
        self.items = [item for item, _ in items]
        self.exact: dict[bytes, int] = {}
        self.calls: dict[str, int] = {}
        grams_of: list[set[tuple[str, ...]]] = []
        frequency: Counter[tuple[str, ...]] = Counter()
        for index, (item, fp) in enumerate(items):
            self.exact.setdefault(fp.key, index)
            for key, size in fp.parts:  # a benchmark row with imports or helpers
                if size >= part_min_tokens:
                    self.exact.setdefault(key, index)
            for call in item.calls:
                if len(call) >= io_min_chars:
                    self.calls.setdefault(call, index)
            grams = ngrams(fp.tokens, ngram)
            grams_of.append(grams)
            frequency.update(grams)
            if fp.signature is not None:
                minhash.add(index, fp.signature)
        self.minhash = minhash
        limit = max(2.0, boilerplate_share * len(items))
        self.boilerplate = {g for g, n in frequency.items() if n > limit}
        self.postings: dict[tuple[str, ...], list[int]] = {}
        self.sizes: list[int] = []
        for index, grams in enumerate(grams_of):
            kept = grams - self.boilerplate
            self.sizes.append(len(kept))
            for gram in kept:
                self.postings.setdefault(gram, []).append(index)

    def _found(self, method: str, index: int, score: float) -> Match:
        item = self.items[index]
        return Match(method, item.source, item.id, round(score, 4))

    def match(self, fp: Fingerprint, calls: Iterable[str]) -> Match | None:
        index = self.exact.get(fp.key)
        if index is not None:
            return self._found("exact", index, 1.0)
        for key, size in fp.parts:
            index = self.exact.get(key)
            if index is not None and size >= self.part_min_tokens:
                return self._found("exact", index, 1.0)
        for call in calls:
            index = self.calls.get(call)
            if index is not None and len(call) >= self.io_min_chars:
                return self._found("io", index, 1.0)
        grams = ngrams(fp.tokens, self.ngram) - self.boilerplate
        if grams:
            shared: Counter[int] = Counter()
            for gram in grams:
                shared.update(self.postings.get(gram, ()))
            best: tuple[float, int] | None = None
            for index, n in sorted(shared.items()):
                score = n / max(len(grams), self.sizes[index])
                if score >= self.ngram_threshold and (best is None or score > best[0]):
                    best = (score, index)
            if best is not None:
                return self._found("ngram", best[1], best[0])
        if fp.signature is not None:
            near = self.minhash.best(fp.signature)
            if near is not None:
                index, score = near
                assert isinstance(index, int)
                return self._found("minhash", index, score)
        return None


class SeedIndex:
    """The seeds kept so far; the first occurrence of a function is the one kept."""

    def __init__(self, minhash: LshIndex) -> None:
        self.exact: dict[bytes, str] = {}
        self.minhash = minhash

    def match(self, fp: Fingerprint) -> Match | None:
        first = self.exact.get(fp.key)
        if first is not None:
            return Match("exact", "seeds", first, 1.0)
        if fp.signature is not None:
            near = self.minhash.best(fp.signature)
            if near is not None:
                return Match("minhash", "seeds", str(near[0]), round(near[1], 4))
        return None

    def add(self, seed_id: str, fp: Fingerprint) -> None:
        self.exact.setdefault(fp.key, seed_id)
        if fp.signature is not None:
            self.minhash.add(seed_id, fp.signature)


def unparsable(item: BenchItem) -> InputError:
    return InputError(f"{item.where}: benchmark code does not parse as Python ({item.id})")
