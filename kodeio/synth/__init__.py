"""kodeio.synth."""
