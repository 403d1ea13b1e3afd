"""Korean corpora and the training mix.

- `kodeio.data.pairs`: AI Hub Korean-English parallel corpora (xlsx, CSV, JSONL) -> pairs.jsonl.
- `kodeio.data.hf`: Hugging Face datasets (instruction, KorMedMCQA, plain QA) -> conversations.
- `kodeio.data.formatting`: everything -> chat `messages` through `kodeio/templates/data/`.
- `kodeio.data.mix`: traces + pairs + HF sets -> one deduplicated, length-filtered,
  shuffled, source-stratified `datasets.DatasetDict` (splits `train`, `eval`) with a card.

The contracts (pairs.jsonl rows, the mixed dataset's columns) are in docs/data.md.
"""
