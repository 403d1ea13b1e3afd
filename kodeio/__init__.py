"""kodeio: execution-verified reasoning data and the fine-tunes trained on it."""

__version__ = "0.1.0"
