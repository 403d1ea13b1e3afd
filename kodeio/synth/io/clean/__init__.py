"""`kodeio io clean`: seeds deduplicated among themselves and decontaminated against benchmarks.

- `normalise`: code with docstrings, comments and formatting gone and names canonical
  (the exact key), and the same code as a token stream (for n-grams and MinHash).
- `minhash`: MinHash signatures and an LSH index over token shingles (datasketch).
- `benchmarks`: readers for the benchmark files to clean against.
- `matcher`: the index of benchmark functions and the four tests a seed is put to.
- `stage`: `CleanConfig` and `run_clean`, the command's one entry point.
- `report`: the summary table.

docs/data-quality.md states the methods, their thresholds, and what each catches and misses.
"""
