"""A Python REPL for tensors without a UI: a persistent namespace run on one dedicated thread,
IPython-style display, per-cell output capture, interrupt, magics, durable history, completion.

Submodules are imported on first use (`from engine.repl import Kernel` still works), so that the
light parts (completion, completeness checks) load fast for the terminal app's first frame.
"""

__all__ = ["CellResult", "Kernel"]


def __getattr__(name):
    if name in __all__:
        from engine.repl import kernel

        return getattr(kernel, name)
    raise AttributeError(name)
