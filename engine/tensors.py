"""Short, cheap descriptions of tensors: shape, dtype, device, grad state and value statistics.

Statistics stay cheap on huge tensors: min and max come from one `aminmax` pass (NaN propagates,
so a finite result proves there is no NaN or Inf), the standard deviation is estimated from a
sample above SAMPLE_ABOVE elements, and non-finite values are counted exactly only when needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.i18n import counted, say, spoken, text

SAMPLE_ABOVE = 10_000_000
SAMPLE_SIZE = 1_000_000


@dataclass(frozen=True)
class TensorStats:
    """Value statistics of a tensor; `sampled` says std and counts came from a sample; an integer
    tensor has only its min and max (`integer`)."""

    min: float
    max: float
    mean: float
    std: float
    nan: int
    inf: int
    sampled: bool = False
    integer: bool = False


@dataclass(frozen=True)
class TensorSummary:
    """What a learner wants to know about a tensor at a glance."""

    shape: tuple[int, ...]
    dtype: str
    device: str
    requires_grad: bool
    grad_fn: str | None
    is_leaf: bool
    numel: int
    nbytes: int
    stats: TensorStats | None = None
    layout: str = "strided"  # or sparse_coo, sparse_csr, …, nested

    def line(self, lang: str | None = None) -> str:
        """One line in `lang` (the language this process prints in unless told):
        `shape (2, 3) · float32 · cpu · requires_grad · min -1.2 max 2.3 …`."""
        lang = lang or spoken()
        if self.layout == "nested":
            parts = [text(counted("summary.nested", self.shape[0]), lang, n=self.shape[0]), self.dtype, self.device]
        else:
            parts = [text("summary.shape", lang, shape=shape_text(self.shape)), self.dtype, self.device]
            if self.layout != "strided":
                parts.append(self.layout)
        if self.grad_fn:
            parts.append("grad_fn=" + self.grad_fn)
        elif self.requires_grad:
            parts.append(text("summary.leaf", lang))
        if self.stats is not None and self.numel > 1:
            s = self.stats
            approx = "≈" if s.sampled else ""
            if s.integer:
                parts.append(text("summary.range", lang, min=fmt(s.min), max=fmt(s.max)))
            else:
                parts.append(text("summary.stats", lang, min=fmt(s.min), max=fmt(s.max), mean=fmt(s.mean),
                                  std=approx + fmt(s.std)))
            if s.nan or s.inf:
                parts.append(text("summary.nonfinite", lang, nan=f"{approx}{s.nan}", inf=f"{approx}{s.inf}"))
        return " · ".join(parts)


def shape_text(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def fmt(value: float | complex) -> str:
    if isinstance(value, complex):  # as Python writes one: (1+2j), with each part short
        imag = fmt(abs(value.imag))
        return f"({fmt(value.real)}{'-' if value.imag < 0 or str(value.imag) == '-0.0' else '+'}{imag}j)"
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def stats(t) -> TensorStats | None:
    """Min, max, mean, std and NaN/Inf counts of a floating tensor, min and max of an integer one
    (None for others or empty)."""
    import torch

    if not (regular(t) and t.numel()):
        return None
    if not t.is_floating_point():
        return _integer_stats(t)
    if t.dtype.itemsize == 1:  # float8: statistics are not implemented for it; read as float32
        t = t.float()
    with torch.no_grad():
        data = t.detach()
        if data.dtype in (torch.float16, torch.bfloat16):
            data = data.float()
        flat = data.reshape(-1)
        lowest, highest = torch.aminmax(flat)
        lo, hi = lowest.item(), highest.item()
        finite = lo == lo and hi == hi and abs(lo) != float("inf") and abs(hi) != float("inf")
        sampled = flat.numel() > SAMPLE_ABOVE
        sample = flat
        if sampled:
            step = flat.numel() // SAMPLE_SIZE
            sample = flat[::step]
        if finite:
            nan = inf = 0
            mean = flat.mean().item()
            std = sample.std().item() if sample.numel() > 1 else 0.0
        else:
            nan = int(torch.isnan(sample).sum().item())
            inf = int(torch.isinf(sample).sum().item())
            if sampled:
                scale = flat.numel() / sample.numel()
                nan, inf = round(nan * scale), round(inf * scale)
            good = sample[torch.isfinite(sample)]
            mean = good.mean().item() if good.numel() else float("nan")
            std = good.std().item() if good.numel() > 1 else float("nan")
            if good.numel():
                glo, ghi = torch.aminmax(good)
                lo, hi = glo.item(), ghi.item()
        return TensorStats(lo, hi, mean, std, nan, inf, sampled)


def _integer_stats(t) -> TensorStats | None:
    """Min and max of an integer tensor (None for bool, complex, or a dtype aminmax lacks)."""
    import torch

    if t.is_complex() or t.dtype == torch.bool:
        return None
    try:
        lowest, highest = torch.aminmax(t.detach().reshape(-1))
    except (RuntimeError, NotImplementedError):  # uint16/32/64 have no aminmax on every device
        return None
    nan = float("nan")
    return TensorStats(lowest.item(), highest.item(), nan, nan, 0, 0, integer=True)


def regular(t) -> bool:
    """A dense tensor with values in memory: not sparse, not nested, not on the meta device."""
    import torch

    return t.layout == torch.strided and not t.is_meta and not getattr(t, "is_nested", False)


def _shape(t) -> tuple[int, ...]:
    try:
        return tuple(t.shape)
    except RuntimeError:  # a nested tensor has no single shape
        return (t.size(0),)


def summarize(t, with_stats: bool = True) -> TensorSummary:
    """A TensorSummary of `t` (statistics only for dense floating tensors)."""
    return TensorSummary(
        shape=_shape(t),
        dtype=dtype_name(t.dtype),
        device=str(t.device),
        requires_grad=bool(t.requires_grad),
        grad_fn=type(t.grad_fn).__name__ if t.grad_fn is not None else None,
        is_leaf=bool(t.is_leaf),
        numel=_numel(t),
        nbytes=_numel(t) * t.element_size(),
        stats=stats(t) if with_stats else None,
        layout="nested" if getattr(t, "is_nested", False) else str(t.layout).removeprefix("torch."),
    )


def _numel(t) -> int:
    try:
        return t.numel()
    except RuntimeError:
        return 0


def short_repr(t, limit: int = 12) -> str:
    """A compact value: the number for one element, nested lists for small tensors, else a few
    values from each end. Formats by hand: torch's print options are global and not thread-safe.
    Tensors without plain values say what they are instead (in the language this process prints in)."""
    import torch

    data = t.detach()
    if not regular(data):
        if data.is_meta:
            return say("value.meta")
        if getattr(data, "is_nested", False):
            return say(counted("value.nested", data.size(0)), n=data.size(0))
        if data.numel() <= limit:
            return short_repr(data.to_dense(), limit)
        stored = data._nnz() if data.layout == torch.sparse_coo else data.values().numel()
        return say("value.sparse", layout=str(data.layout).removeprefix("torch."), n=stored)
    if data.numel() == 1:
        return fmt(data.reshape(()).item())
    if data.numel() <= limit:
        return _nested(data.cpu().tolist())
    flat = data.reshape(-1)
    edge = limit // 4
    head = ", ".join(fmt(v) for v in flat[:edge].tolist())
    tail = ", ".join(fmt(v) for v in flat[-edge:].tolist())
    return say("value.ends", values=f"[{head}, …, {tail}]", n=data.numel())


def _nested(values) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return fmt(values) if isinstance(values, (float, complex)) else str(values)
