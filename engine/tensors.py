"""Short, cheap descriptions of tensors: shape, dtype, device, grad state and value statistics.

Statistics stay cheap on huge tensors: min and max come from one `aminmax` pass (NaN propagates,
so a finite result proves there is no NaN or Inf), the standard deviation is estimated from a
sample above SAMPLE_ABOVE elements, and non-finite values are counted exactly only when needed.
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_ABOVE = 10_000_000
SAMPLE_SIZE = 1_000_000


@dataclass(frozen=True)
class TensorStats:
    """Value statistics of a floating tensor; `sampled` says std and counts came from a sample."""

    min: float
    max: float
    mean: float
    std: float
    nan: int
    inf: int
    sampled: bool = False


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

    def line(self) -> str:
        """One line: `shape (2, 3) · float32 · cpu · requires_grad · min -1.2 max 2.3 …`."""
        parts = [f"shape {shape_text(self.shape)}", self.dtype, self.device]
        if self.grad_fn:
            parts.append(f"grad_fn={self.grad_fn}")
        elif self.requires_grad:
            parts.append("requires_grad (leaf)")
        if self.stats is not None and self.numel > 1:
            s = self.stats
            approx = "≈" if s.sampled else ""
            parts.append(f"min {fmt(s.min)} max {fmt(s.max)} mean {fmt(s.mean)} std {approx}{fmt(s.std)}")
            if s.nan or s.inf:
                parts.append(f"NaN {approx}{s.nan} Inf {approx}{s.inf}")
        return " · ".join(parts)


def shape_text(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def fmt(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def stats(t) -> TensorStats | None:
    """Min, max, mean, std and NaN/Inf counts of a floating tensor (None for others or empty)."""
    import torch

    if not (t.is_floating_point() and t.numel()):
        return None
    with torch.no_grad():
        data = t.detach()
        if data.dtype in (torch.float16, torch.bfloat16):
            data = data.float()
        flat = data.reshape(-1)
        lo, hi = torch.aminmax(flat)
        lo, hi = lo.item(), hi.item()
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


def summarize(t, with_stats: bool = True) -> TensorSummary:
    """A TensorSummary of `t` (statistics only for floating tensors)."""
    return TensorSummary(
        shape=tuple(t.shape),
        dtype=dtype_name(t.dtype),
        device=str(t.device),
        requires_grad=bool(t.requires_grad),
        grad_fn=type(t.grad_fn).__name__ if t.grad_fn is not None else None,
        is_leaf=bool(t.is_leaf),
        numel=t.numel(),
        nbytes=t.numel() * t.element_size(),
        stats=stats(t) if with_stats else None,
    )


def short_repr(t, limit: int = 12) -> str:
    """A compact value: the number for one element, nested lists for small tensors, else a few
    values from each end. Formats by hand: torch's print options are global and not thread-safe."""
    data = t.detach()
    if data.numel() == 1:
        return fmt(data.reshape(()).item())
    if data.numel() <= limit:
        return _nested(data.cpu().tolist())
    flat = data.reshape(-1)
    edge = limit // 4
    head = ", ".join(fmt(v) for v in flat[:edge].tolist())
    tail = ", ".join(fmt(v) for v in flat[-edge:].tolist())
    return f"[{head}, …, {tail}] ({data.numel()} values)"


def _nested(values) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return fmt(values) if isinstance(values, float) else str(values)
