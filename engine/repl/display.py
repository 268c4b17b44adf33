"""How a cell's value is shown: torch's own repr for tensors (bounded) plus a summary line,
sensible bounded reprs for everything else."""

from __future__ import annotations

import reprlib

MAX_REPR = 20_000


def _bounded(text: str, limit: int = MAX_REPR) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit:,} more characters not shown)"


def describe(value) -> tuple[str, str | None]:
    """(repr text, summary line or None) for a value."""
    import numpy as np
    import torch

    from engine.tensors import shape_text, summarize

    if isinstance(value, torch.Tensor):
        # torch's print options already summarise big tensors (threshold=1000 elements).
        return _bounded(repr(value)), summarize(value).line()
    if isinstance(value, np.ndarray):
        with np.printoptions(threshold=1000, edgeitems=3):
            text = repr(value)
        return _bounded(text), f"numpy array · shape {shape_text(value.shape)} · {value.dtype} · {value.nbytes:,} bytes"
    if isinstance(value, torch.nn.Module):
        params = sum(p.numel() for p in value.parameters())
        return _bounded(repr(value)), f"{type(value).__name__} · {params:,} parameters"
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the REPL
        return f"<{type(value).__name__} object: repr() failed: {exc}>", None
    if len(text) > MAX_REPR and isinstance(value, (list, tuple, dict, set)):
        short = reprlib.Repr()
        short.maxlist = short.maxtuple = short.maxdict = short.maxset = 50
        short.maxstring = short.maxother = 200
        text = short.repr(value) + f"  ({len(value):,} items)"
    return _bounded(text), None
