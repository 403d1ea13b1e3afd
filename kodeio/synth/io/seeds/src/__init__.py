"""Seed sources, one module per reasoning pattern (the module's CATEGORY).

Each seed is a top-level function decorated with `@seed(description)` plus a zero-argument
generator decorated with `@inputs_for(function)`. `kodeio.synth.io.seeds.build` extracts their
source text (with the imports and helpers they use) into `quickstart.jsonl`.
"""

MODULES = (
    "recursion",
    "decision_tree",
    "state_search",
    "strings",
    "lists",
    "math_numbers",
    "simulation",
    "dynamic_programming",
    "sorting_searching",
    "bits",
    "puzzles",
    "parsers",
)
