"""Plot-ready series: downsampling that keeps spikes, smoothing, and log values, so that a plot
redraw costs the same for 100 points or 10^6."""

from __future__ import annotations

import math


def downsample(xs: list[float], ys: list[float], bins: int) -> tuple[list[float], list[float]]:
    """At most 2·bins points: the min and the max of each bin, in order, so spikes survive."""
    n = len(ys)
    if n <= 2 * bins or bins < 1:
        return list(xs), list(ys)
    out_x, out_y = [], []
    for b in range(bins):
        lo, hi = b * n // bins, (b + 1) * n // bins
        if lo >= hi:
            continue
        chunk = ys[lo:hi]
        i_min = lo + min(range(len(chunk)), key=chunk.__getitem__)
        i_max = lo + max(range(len(chunk)), key=chunk.__getitem__)
        for i in sorted({i_min, i_max}):
            out_x.append(xs[i])
            out_y.append(ys[i])
    return out_x, out_y


def smooth(ys: list[float], weight: float = 0.8) -> list[float]:
    """Exponential moving average, as TensorBoard smooths curves."""
    out, last = [], None
    for y in ys:
        last = y if last is None else weight * last + (1 - weight) * y
        out.append(last)
    return out


def log10(ys: list[float]) -> list[float]:
    """log10 of each value (values ≤ 0 become the smallest positive one's log): plotext's own log
    scale fails on a second build, so the plot takes logs itself and labels the axis."""
    positive = [y for y in ys if y > 0]
    floor = min(positive) if positive else 1.0
    return [math.log10(y if y > 0 else floor) for y in ys]


def subsample_indices(n: int, limit: int) -> list[int]:
    """Evenly spread indices, at most `limit` of them."""
    if n <= limit:
        return list(range(n))
    step = n / limit
    return [int(i * step) for i in range(limit)]


def finite(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    """The points whose y is a finite number (a diverged run ends in inf and NaN)."""
    kept = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(y)]
    return [x for x, _ in kept], [y for _, y in kept]


def value_range(ys: list[float]) -> tuple[float, float] | None:
    """The y-range a plot should show for `ys` (finite values only, a little margin), or None."""
    values = [y for y in ys if math.isfinite(y)]
    if not values:
        return None
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
    return lo - pad, hi + pad


def clip(ys: list[float], lo: float, hi: float) -> list[float]:
    """Values held inside [lo, hi], so a series drawn against another's scale cannot stretch it."""
    return [min(max(y, lo), hi) for y in ys]


def compact(value: float) -> str:
    """An axis number in at most ~8 characters: 1786.5, 0.0123, 1.2e+27."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e5:
        return f"{value:.5g}" if abs(value) >= 1 else f"{value:.3g}"
    return f"{value:.2g}".replace("e+0", "e+").replace("e-0", "e-")


def ticks(lo: float, hi: float, count: int = 4) -> tuple[list[float], list[str]]:
    """Evenly spaced ticks over [lo, hi] with compact labels."""
    if hi <= lo:
        return [lo], [compact(lo)]
    values = [lo + (hi - lo) * i / (count - 1) for i in range(count)]
    return values, [compact(v) for v in values]
