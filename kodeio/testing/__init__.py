"""kodeio.testing."""
