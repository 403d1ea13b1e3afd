"""Seeds to ground-truth I/O pairs."""
