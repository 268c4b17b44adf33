"""The summary line shown under a value in the Playground (and in notebooks with the extension)."""

from __future__ import annotations

from engine.i18n import counted, say
from engine.tensors import shape_text, summarize


def summary_of(value) -> str | None:
    """The summary line shown under a value: shape, dtype, device and statistics for a tensor,
    shape and bytes for an array, the parameter count for a module; None for anything else.
    A tensor whose values cannot be read (meta, sparse, nested, float8) still gets what can be said."""
    import numpy as np
    import torch

    try:
        if isinstance(value, torch.Tensor):
            try:
                return summarize(value).line()
            except Exception:
                pass
            try:
                return summarize(value, with_stats=False).line()
            except Exception:
                return _irregular(value)
        if isinstance(value, np.ndarray):
            return say("summary.array", shape=shape_text(value.shape), dtype=value.dtype, size=byte_count(value.nbytes))
        if isinstance(value, torch.nn.Module):
            params = sum(p.numel() for p in value.parameters())
            if params == 1:
                return say("summary.module_one", name=type(value).__name__)
            return say("summary.module", name=type(value).__name__, n=f"{params:,}")
    except Exception:
        return None
    return None


def byte_count(n: int) -> str:
    """`1 byte`, `1,024 bytes`, in the language this process prints in."""
    return say("summary.bytes_one") if n == 1 else say("summary.bytes", n=f"{n:,}")


def _irregular(t) -> str | None:
    """What can be said of a tensor without a regular shape (a nested tensor, say)."""
    parts = []
    if getattr(t, "is_nested", False):
        shapes = ", ".join(str(tuple(c.shape)) for c in list(t.unbind())[:4]) + (" …" if t.size(0) > 4 else "")
        parts.append(say(counted("summary.nested_shapes", t.size(0)), n=t.size(0), shapes=shapes))
    parts += [str(t.dtype).removeprefix("torch."), str(t.device), str(t.layout).removeprefix("torch.")]
    return " · ".join(parts)
