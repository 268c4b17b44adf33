"""A tensor as a terminal plot (plotext): 1-D as a line, 2-D as a heatmap, any shape as a histogram.

NaN and ±Inf are counted and left out; a tensor on a GPU is copied to the CPU first; a long 1-D
tensor is reduced to the min and max of each column's worth of points, so spikes survive.
"""

from __future__ import annotations

import math

from engine.i18n import SaidError, counted, say
from engine.plotdata import compact, downsample

ROWS = 15  # plot height: fits the output log of an 80x24 terminal
MIN_COLUMNS = 30
HEATMAP_FRAME_ROWS = 5  # title, two frame lines, tick labels, axis names


class PlotError(SaidError, ValueError):
    """The value cannot be plotted; the message says why and what to do."""


def as_tensor(value, name: str):
    import torch

    if isinstance(value, torch.Tensor):
        tensor = value
    else:
        try:
            tensor = torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError):
            raise PlotError("plot.err.type", name=name, kind=type(value).__name__) from None
    if tensor.is_complex():
        raise PlotError("plot.err.complex", name=name)
    return tensor.detach().to("cpu")


def plot_text(value, name: str, columns: int = 80, rows: int = ROWS, hist: bool = False, bins: int = 40) -> str:
    """The plot as text with colours (ANSI), `columns` wide, with a title naming shape, dtype,
    device and range; a line under it counts what was left out."""
    import plotext as plt
    import torch

    device = str(value.device) if isinstance(value, torch.Tensor) else "cpu"
    tensor = as_tensor(value, name)
    shape = tuple(tensor.shape)
    dtype = str(tensor.dtype).replace("torch.", "")
    if tensor.numel() == 0:
        raise PlotError("plot.err.empty", name=name, shape=str(shape))
    if not hist and tensor.dim() == 0:
        raise PlotError("plot.err.scalar", name=name, value=repr(tensor.item()))
    if not hist and tensor.dim() > 2:
        raise PlotError("plot.err.dims", name=name, shape=str(shape))
    values = tensor.to(torch.float64)
    finite = torch.isfinite(values)
    left_out = int((~finite).sum())
    if left_out == values.numel():
        raise PlotError(counted("plot.err.nonfinite", left_out), name=name, count=left_out)
    kept = values[finite]
    low, high = float(kept.min()), float(kept.max())
    facts = f" · {shape} {dtype} {device} · {compact(low)} … {compact(high)}"
    room = max(MIN_COLUMNS, columns) - 4 - len(facts)  # plotext drops a title wider than the plot
    title = (name if len(name) <= room else name[:max(1, room - 1)] + "…") + facts

    plt.clear_figure()
    plt.theme("clear")
    plt.plotsize(max(MIN_COLUMNS, columns), rows)
    if hist:
        plt.hist(kept.flatten().tolist(), bins=bins)
        plt.xlabel("value")
    elif values.dim() == 1:
        xs = [float(i) for i in range(values.numel()) if not left_out or finite[i]]
        xs, ys = downsample(xs, kept.tolist(), max(10, columns))
        plt.plot(xs, ys, marker="braille")
        plt.xlabel("index")
    else:
        # one character per cell of the frame's inside: the row labels take the width of the
        # largest row index, the frame one column each side
        inside = max(1, max(MIN_COLUMNS, columns) - len(str(shape[0] - 1)) - 2)
        cells = heatmap_cells(values, finite, low, inside, rows - HEATMAP_FRAME_ROWS)
        plt.matrix_plot(cells)
        width, height = len(cells[0]), len(cells)
        marks = sorted({1, (width + 1) // 2, width})
        plt.xticks(marks, [str(round((m - 1) * (shape[1] - 1) / max(1, width - 1))) for m in marks])
        marks = sorted({1, (height + 1) // 2, height})  # row 0 at the top, as the tensor prints
        plt.yticks(marks, [str(round((height - m) * (shape[0] - 1) / max(1, height - 1))) for m in marks])
    plt.title(title)
    text = plt.build()
    plt.clear_figure()

    notes = []
    if left_out:
        notes.append(say("plot.left_out" if left_out != 1 else "plot.left_out_one", n=left_out))
    if device != "cpu":
        notes.append(say("plot.copied", device=device))
    if not hist and values.dim() == 2:
        notes.append(say("plot.heatmap", rows=shape[0], columns=shape[1]))
    return text + ("\n" + " · ".join(notes) if notes else "")


def heatmap_cells(values, finite, low: float, width: int, height: int) -> list[list[float]]:
    """The 2-D values averaged down (or repeated up) to width × height cells; NaN/Inf drawn as the lowest."""
    import torch

    filled = torch.where(finite, values, torch.full_like(values, low))
    pooled = torch.nn.functional.adaptive_avg_pool2d(filled[None, None], (height, width))[0, 0]
    return [[v if math.isfinite(v) else low for v in row] for row in pooled.tolist()]
