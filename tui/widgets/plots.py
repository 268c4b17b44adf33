"""The Training screen's two plots: the loss per epoch and the fit. Redrawn from downsampled data."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from engine.plotdata import downsample, log10, smooth


class LossPlot(PlotextPlot):
    """Loss per epoch, with the previous run as a faint overlay; log scale and smoothing toggles."""

    def __init__(self) -> None:
        super().__init__(id="loss-plot")
        self.current: list[float] = []
        self.previous: list[float] = []
        self.log_scale = False
        self.smoothing = False
        self.title = "loss"

    def set_data(self, current: list[float], previous: list[float]) -> None:
        self.current, self.previous = current, previous
        self.redraw()

    def _series(self, ys: list[float]) -> tuple[list[float], list[float]]:
        if self.smoothing:
            ys = smooth(ys)
        if self.log_scale:
            ys = log10(ys)
        xs = list(range(1, len(ys) + 1))
        return downsample(xs, ys, max(10, self.size.width))

    def redraw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        label = self.title + (" (log10)" if self.log_scale else "") + (" · smoothed" if self.smoothing else "")
        plt.title(label)
        if self.previous:
            xs, ys = self._series(self.previous)
            plt.plot(xs, ys, color="gray", label="previous")
        if self.current:
            xs, ys = self._series(self.current)
            plt.plot(xs, ys, color="cyan", label="this run")
        plt.xlabel("epoch")
        self.refresh()


class FitPlot(PlotextPlot):
    """The data as a scatter with the learned and the true line; predicted against true for
    several features."""

    def __init__(self) -> None:
        super().__init__(id="fit-plot")
        self.points: tuple[list[float], list[float]] | None = None
        self.features = 1
        self.true_line: tuple[float, float] | None = None
        self.title = "fit"

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
        if self.features == 1:
            plt.title(self.title)
            plt.scatter(xs, ys, marker="dot", color="gray", label="data")
            lo, hi = min(xs), max(xs)
            tw, tb = self.true_line
            plt.plot([lo, hi], [tw * lo + tb, tw * hi + tb], color="red", label="true")
            plt.plot([lo, hi], [weight[0] * lo + bias, weight[0] * hi + bias], color="orange", label="learned")
            plt.xlabel("x")
        else:
            plt.title(self.title + ": predicted against true")
            if predicted is not None:
                plt.scatter(ys, predicted, marker="dot", color="orange", label="predicted")
            lo, hi = min(ys), max(ys)
            plt.plot([lo, hi], [lo, hi], color="red", label="perfect")
            plt.xlabel("true y")
        self.refresh()
