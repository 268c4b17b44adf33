"""The Training screen's two plots: the loss per epoch and the fit. Redrawn from downsampled data."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from rich.text import Text
from textual_plotext import PlotextPlot

from engine.plotdata import clip, downsample, finite, log10, smooth, ticks, value_range
from tui.i18n import t


def is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def narrow_text(line: Text) -> Text:
    """Drop one space for each double-width character of `line` (spaces after such a character
    first), styles kept."""
    plain = line.plain
    owed = sum(1 for ch in plain if is_wide(ch))
    if not owed:
        return line
    dropped, seen_wide = [], False
    for i, ch in enumerate(plain):
        seen_wide = seen_wide or is_wide(ch)
        if owed and ch == " " and seen_wide:
            dropped.append(i)
            owed -= 1
    parts = line.divide(j for i in dropped for j in (i, i + 1))  # odd parts: the dropped spaces
    return Text("").join(part for k, part in enumerate(parts) if k % 2 == 0)


LINE_POINTS = 60


def line_within(w: float, b: float, lo: float, hi: float,
                span: tuple[float, float] | None) -> tuple[list[float], list[float]]:
    """Points of y = w·x + b for x in [lo, hi], only those inside the y-range `span`."""
    xs = [lo + (hi - lo) * i / (LINE_POINTS - 1) for i in range(LINE_POINTS)]
    points = [(x, w * x + b) for x in xs]
    if span is not None:
        points = [(x, y) for x, y in points if math.isfinite(y) and span[0] <= y <= span[1]]
    return [x for x, _ in points], [y for _, y in points]


class Plot(PlotextPlot):
    """A PlotextPlot that keeps its frame straight with Chinese titles, labels and legends.

    plotext gives every character one cell, but CJK characters take two, which pushes the rest of
    the line (and the frame's right edge) out by one cell per character. Dropping one space per
    wide character from the same line (the padding after it, first) puts everything back.
    """

    def render(self) -> Text:
        drawn = super().render()  # plotext's build at the widget's size, in the app's theme
        if not isinstance(drawn, Text) or not any(is_wide(ch) for ch in drawn.plain):
            return drawn  # type: ignore[return-value]  # (always Text: textual-plotext builds one)
        return Text("\n").join(narrow_text(line) for line in drawn.split("\n", allow_blank=True))


class LossPlot(Plot):
    """Loss per epoch, with the previous run as a faint overlay; log scale and smoothing toggles."""

    def __init__(self, id: str | None = "loss-plot", title: str = "loss", x_label: str = "plot.epoch") -> None:
        super().__init__(id=id)
        self.current: list[float] = []
        self.previous: list[float] = []
        self.current_x: list[float] | None = None  # None: 1, 2, 3, …
        self.previous_x: list[float] | None = None
        self.x_range: tuple[float, float] | None = None  # None: the data's own
        self.log_scale = False
        self.smoothing = False
        self.title = title
        self.x_label = x_label

    def set_data(self, current: list[float], previous: list[float],
                 current_x: list[float] | None = None, previous_x: list[float] | None = None,
                 x_range: tuple[float, float] | None = None) -> None:
        """Draw this run's curve over the previous one's. `x_range`: the x axis this run takes
        (a training run's epochs, known before they are done); the previous curve is cut to it."""
        self.current, self.previous = current, previous
        self.current_x, self.previous_x = current_x, previous_x
        self.x_range = x_range
        self.redraw()

    def on_resize(self) -> None:
        if self.current or self.previous:  # downsampled to the width it has now (data may come before the layout)
            self.redraw()

    def _series(self, ys: list[float], xs: list[float] | None = None) -> tuple[list[float], list[float]]:
        if xs is None:
            xs = list(range(1, len(ys) + 1))
        if self.x_range is not None:  # a longer previous run is cut, and does not stretch the axis
            lo, hi = self.x_range
            kept = [(x, y) for x, y in zip(xs, ys, strict=True) if lo <= x <= hi]
            xs, ys = [x for x, _ in kept], [y for _, y in kept]
        xs, ys = finite(xs, ys)  # a diverged run's inf and NaN are not drawn
        if self.smoothing:
            ys = smooth(ys)
        if self.log_scale:
            ys = log10(ys)
        return downsample(xs, ys, max(10, self.size.width))

    def redraw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        label = self.title + (f" ({t('plot.log')})" if self.log_scale else "") + (
            f" · {t('plot.smoothed')}" if self.smoothing else "")
        plt.title(label)
        current = self._series(self.current, self.current_x) if self.current else ([], [])
        previous = self._series(self.previous, self.previous_x) if self.previous else ([], [])
        # The scale is this run's: the previous run (a diverged one, say) is held inside it.
        span = value_range(current[1]) or value_range(previous[1])
        if span is not None:
            plt.ylim(*span)
            plt.yticks(*ticks(*span))
        if self.x_range is not None and self.x_range[0] < self.x_range[1]:
            plt.xlim(*self.x_range)
        if previous[1]:
            ys = clip(previous[1], *span) if span is not None else previous[1]
            plt.plot(previous[0], ys, color="gray", label=t("plot.previous"))
        if current[1]:
            plt.plot(current[0], current[1], color="cyan", label=t("plot.this_run"))
        plt.xlabel(t(self.x_label))
        self.refresh()


class FitPlot(Plot):
    """The data as a scatter with the learned and the true line; predicted against true for
    several features."""

    def __init__(self) -> None:
        super().__init__(id="fit-plot")
        self.points: tuple[list[Any], list[float]] | None = None  # (x: a number, or a row of features)
        self.features = 1
        self.true_line: tuple[float, float] | None = None
        self.title = "fit"

    def take_points(self, points: dict) -> None:
        """The points of a TrainData event (the regression's sample of the data)."""
        self.set_points(list(points["xs"]), list(points["ys"]), points["features"], points["true_w"], points["true_b"])

    def set_points(self, xs: list[float], ys: list[float], features: int, true_w: float, true_b: float) -> None:
        self.points, self.features, self.true_line = (xs, ys), features, (true_w, true_b)

    def draw(self, weight: list[float], bias: float, predicted: list[float] | None = None) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if self.points is None:
            plt.title(self.title)
            self.refresh()
            return
        xs, ys = self.points
        # The scale is the data's: a learned line that ran off (a diverged run) is drawn where it
        # crosses the data's range and nowhere else, so the axes stay readable.
        span = value_range(ys)
        if span is not None:
            plt.ylim(*span)
            plt.yticks(*ticks(*span))
        if self.features == 1 and self.true_line is not None:
            plt.title(self.title)
            plt.scatter(xs, ys, marker="dot", color="gray", label=t("plot.data"))
            lo, hi = min(xs), max(xs)
            tw, tb = self.true_line
            for (w, b), color, label in (((tw, tb), "red", "plot.true"), ((weight[0], bias), "orange", "plot.learned")):
                line = line_within(w, b, lo, hi, span)
                if line[0]:  # (plotext fails on an empty series with a legend)
                    plt.plot(*line, color=color, label=t(label))
            plt.xlabel("x")
        else:
            plt.title(f"{self.title}: {t('plot.pred_vs_true')}")
            if predicted is not None:
                kept = [(y, p) for y, p in zip(ys, predicted, strict=False)
                        if span is None or span[0] <= p <= span[1]]
                if kept:
                    plt.scatter([y for y, _ in kept], [p for _, p in kept], marker="dot", color="orange",
                                label=t("plot.predicted"))
            lo, hi = min(ys), max(ys)
            plt.plot([lo, hi], [lo, hi], color="red", label=t("plot.perfect"))
            plt.xlabel(t("plot.true_y"))
        self.refresh()


class BoundaryPlot(Plot):
    """A two-class task (the moons): the points coloured by class, over the model's decision regions (one dot
    per point of the kernel's boundary grid, in the colour of the class it is given)."""

    COLORS = (("blue", "cyan"), ("red", "orange"))  # (region, points) per class

    def __init__(self) -> None:
        super().__init__(id="boundary-plot")
        self.points: tuple[list[list[float]], list[int]] | None = None
        self.extent: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0)
        self.grid: tuple[int, int] = (1, 1)
        self.title = t("tr.plot.boundary")

    def take_points(self, points: dict) -> None:
        """The points of a TrainData event: a sample of the data with its classes."""
        self.set_points([list(p) for p in points["xs"]], list(points["ys"]), points["extent"], points["grid"])

    def set_points(self, xs: list[list[float]], labels: list[int], extent, grid) -> None:
        self.points, self.extent, self.grid = (xs, labels), tuple(extent), tuple(grid)

    def draw(self, boundary: str = "") -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        x0, x1, y0, y1 = self.extent
        plt.xlim(x0, x1)
        plt.ylim(y0, y1)
        columns, rows = self.grid
        if len(boundary) == columns * rows:
            for cls in (0, 1):
                gx, gy = [], []
                for i, c in enumerate(boundary):
                    if c == str(cls):
                        r, k = divmod(i, columns)
                        gx.append(x0 + (x1 - x0) * k / max(1, columns - 1))
                        gy.append(y1 - (y1 - y0) * r / max(1, rows - 1))
                if gx:
                    plt.scatter(gx, gy, marker="·", color=self.COLORS[cls][0])
        if self.points is not None:
            xs, labels = self.points
            for cls in (0, 1):
                chosen = [p for p, label in zip(xs, labels, strict=False) if label == cls]
                if chosen:
                    plt.scatter([p[0] for p in chosen], [p[1] for p in chosen], marker="●",
                                color=self.COLORS[cls][1], label=t("plot.class", n=cls))
        self.refresh()
