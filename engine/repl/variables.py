"""The namespace as a learner sees it: each tensor, array and module with its shape, dtype,
device and bytes, and which names share memory (a `.numpy()` array, a `.view` or `.transpose`)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.i18n import say
from engine.repl.display import byte_count
from engine.tensors import dtype_name, shape_text, summarize

MAX_VARIABLES = 500


@dataclass(frozen=True)
class Variable:
    """One row of the variables pane."""

    name: str
    kind: str  # "tensor", "ndarray", "module"
    shape: str
    dtype: str
    device: str
    nbytes: int
    requires_grad: bool


@dataclass(frozen=True)
class VariableDetails:
    """What the pane shows for a selected name."""

    name: str
    summary: str
    strides: str
    contiguous: bool
    shares_with: tuple[str, ...]


def _memory_range(value):
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        if value.device.type != "cpu" and not value.is_cuda:
            return None
        storage = value.untyped_storage()
        start = storage.data_ptr()
        return (value.device.type, start, start + storage.nbytes())
    if isinstance(value, np.ndarray):
        base = value
        while isinstance(base.base, np.ndarray):
            base = base.base
        start = base.__array_interface__["data"][0]
        return ("cpu", start, start + base.nbytes)
    return None


def collect(namespace: dict) -> list[Variable]:
    import numpy as np
    import torch

    out: list[Variable] = []
    for name, value in list(namespace.items()):
        if name.startswith("_") or len(out) >= MAX_VARIABLES:
            continue
        if isinstance(value, torch.Tensor):
            out.append(Variable(name, "tensor", shape_text(value.shape), dtype_name(value.dtype), str(value.device),
                                value.numel() * value.element_size(), bool(value.requires_grad)))
        elif isinstance(value, np.ndarray):
            out.append(Variable(name, "ndarray", shape_text(value.shape), str(value.dtype), "cpu", value.nbytes, False))
        elif isinstance(value, torch.nn.Module):
            params = list(value.parameters())
            nbytes = sum(p.numel() * p.element_size() for p in params)
            device = str(params[0].device) if params else "-"
            out.append(Variable(name, "module", type(value).__name__, "-", device, nbytes,
                                any(p.requires_grad for p in params)))
    return out


def details(name: str, namespace: dict) -> VariableDetails | None:
    import numpy as np
    import torch

    value = namespace.get(name)
    if isinstance(value, torch.Tensor):
        summary, strides, contiguous = summarize(value).line(), str(tuple(value.stride())), value.is_contiguous()
    elif isinstance(value, np.ndarray):
        summary = say("summary.array_short", dtype=value.dtype, size=byte_count(value.nbytes))
        strides = str(tuple(s // max(value.itemsize, 1) for s in value.strides))
        contiguous = bool(value.flags["C_CONTIGUOUS"])
    elif isinstance(value, torch.nn.Module):
        return VariableDetails(name, repr(value)[:2000], "-", True, ())
    else:
        return None
    mine = _memory_range(value)
    shares = []
    if mine is not None:
        for other_name, other in namespace.items():
            if other_name == name or other_name.startswith("_") or other is value:
                continue
            rng = _memory_range(other)
            if rng and rng[0] == mine[0] and rng[1] < mine[2] and mine[1] < rng[2]:
                shares.append(other_name)
    return VariableDetails(name, summary, strides, contiguous, tuple(shares))
