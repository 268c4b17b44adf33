"""The summary line shown under a value in the Playground (and in notebooks with the extension)."""

from __future__ import annotations


def summary_of(value) -> str | None:
    """The summary line shown under a value: shape, dtype, device and statistics for a tensor,
    shape and bytes for an array, the parameter count for a module; None for anything else.
    A tensor whose values cannot be read (meta, sparse, nested, float8) still gets what can be said."""
    import numpy as np
    import torch

    from engine.tensors import shape_text, summarize

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
            return f"numpy array · shape {shape_text(value.shape)} · {value.dtype} · {value.nbytes:,} bytes"
        if isinstance(value, torch.nn.Module):
            params = sum(p.numel() for p in value.parameters())
            return f"{type(value).__name__} · {params:,} parameters"
    except Exception:
        return None
    return None


def _irregular(t) -> str | None:
    """What can be said of a tensor without a regular shape (a nested tensor, say)."""
    parts = []
    if getattr(t, "is_nested", False):
        parts.append(f"nested tensor of {t.size(0)} tensors, shapes "
                     + ", ".join(str(tuple(c.shape)) for c in list(t.unbind())[:4])
                     + (" …" if t.size(0) > 4 else ""))
    parts += [str(t.dtype).removeprefix("torch."), str(t.device), str(t.layout).removeprefix("torch.")]
    return " · ".join(parts)
