"""Evaluation: measure what a fine-tune changed (`kodeio eval ...`, see docs/eval.md).

- `cruxeval`, `cruxeval_stage`: CRUXEval's official scoring rules, run in the sandbox;
- `io_eval`: input/output prediction with the synthesis prompts, backends and verifier;
- `translate`: chrF / BLEU (sacrebleu) on held-out Korean-English pairs;
- `mcqa`: KorMedMCQA-layout accuracy, the letter read after `</think>`;
- `compare`: every metric of two runs, a table and a PNG chart;
- `suite`: every configured eval for one model, sharing one engine;
- `generate`, `items`, `report`, `stats`, `templates`: the shared plumbing.
"""
