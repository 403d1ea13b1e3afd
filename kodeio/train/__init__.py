"""kodeio.train."""
