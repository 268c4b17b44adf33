"""A Python REPL for tensors without a UI: a persistent namespace run on one dedicated thread,
IPython-style display, per-cell output capture, interrupt, magics, durable history, completion."""

from engine.repl.kernel import CellResult, Kernel

__all__ = ["CellResult", "Kernel"]
