"""The Playground's live panel: the series a cell sends with `live(loss=..., acc=...)`, one plot
each (side by side, as many as fit), the previous run as a faint curve behind this one.

It shows itself when the first values come. ctrl+g moves focus to it (and, from it, hides it);
there `l` switches log scale, `s` smoothing, `e` writes this run as CSV, Escape goes back to the
editor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from engine.plotdata import downsample
from engine.protocol import LiveExport, LiveSeries
from tui.asking import Answer, ask
from tui.i18n import counted, t
from tui.widgets.plots import LossPlot

if TYPE_CHECKING:
    from textual import getters

    from tui.app import TorchTUI

KEPT_POINTS = 20_000  # per series in the app; past this it is reduced to each bin's min and max
REDUCED_TO = 5_000
PLOT_MIN_WIDTH = 36  # narrower than this, fewer plots are shown side by side


class Series:
    def __init__(self) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.count = 0
        self.last = float("nan")

    def add(self, update: dict) -> None:
        self.xs.extend(update["x"])
        self.ys.extend(update["y"])
        self.count, self.last = update["count"], update["last"]
        if len(self.xs) > KEPT_POINTS:
            self.xs, self.ys = downsample(self.xs, self.ys, REDUCED_TO // 2)


class LivePanel(Vertical, can_focus=True):
    """The live plots of live(name=value) calls in the Playground's cells, one per name."""

    if TYPE_CHECKING:
        app = getters.app(TorchTUI)  # (what self.app is, for the type checker)

    class Exported(Answer):
        """The CSV the kernel wrote of the live series."""

    DEFAULT_CSS = """
    LivePanel { height: 13; display: none; border-top: solid $accent; }  /* 6 rows of curve: a plot's frame and words take 5 */
    LivePanel.-shown { display: block; }
    LivePanel:focus { border-top: thick $accent; }
    LivePanel #live-title { height: 1; padding: 0 1; }
    LivePanel Horizontal { height: 1fr; }
    LivePanel LossPlot { width: 1fr; height: 1fr; }
    """
    BINDINGS = [
        Binding("l", "log_scale", "live.log", id="live.log"),
        Binding("s", "smoothing", "live.smooth", id="live.smooth"),
        Binding("e", "export", "live.export", id="live.export"),
    ]

    def __init__(self) -> None:
        super().__init__(id="live")
        self.run: int | None = None
        self.series: dict[str, Series] = {}
        self.previous: dict[str, Series] = {}
        self.log_scale = False
        self.smoothing = False
        self.dirty = False

    def compose(self):
        yield Static("", id="live-title")
        yield Horizontal(id="live-plots")

    def on_mount(self) -> None:
        self.set_interval(0.1, self._redraw)  # at most 10 redraws a second

    def on_resize(self) -> None:
        self.dirty = True  # as many plots as fit the new width (the first redraw may come before the layout)

    # --- data from the kernel -----------------------------------------------------------------
    def take(self, news: LiveSeries) -> None:
        if news.new_run or news.run != self.run:
            if self.series:
                self.previous = self.series
            self.series, self.run = {}, news.run
        for name, update in news.series.items():
            self.series.setdefault(name, Series()).add(update)
        self.dirty = True
        if not self.has_class("-shown"):
            self.add_class("-shown")

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    # --- drawing ------------------------------------------------------------------------------
    def _redraw(self) -> None:
        if not self.dirty or not self.shown:
            return
        self.dirty = False
        fits = max(1, self.size.width // PLOT_MIN_WIDTH)
        names = list(self.series)[:fits]
        box = self.query_one("#live-plots", Horizontal)
        plots = {plot.title: plot for plot in box.query(LossPlot)}
        if list(plots) != names:
            box.remove_children()
            plots = {name: LossPlot(id=None, title=name, x_label="plot.step") for name in names}
            box.mount(*plots.values())
        for name, plot in plots.items():
            plot.log_scale, plot.smoothing = self.log_scale, self.smoothing
            now, before = self.series[name], self.previous.get(name)
            plot.set_data(now.ys, before.ys if before else [], now.xs, before.xs if before else None)
        self.query_one("#live-title", Static).update(self._title(len(names)))

    def _title(self, shown: int) -> str:
        values = " · ".join(f"{name} {s.last:.5g}" for name, s in self.series.items())
        steps = max((s.count for s in self.series.values()), default=0)
        more = len(self.series) - shown
        extra = " · " + t("live.more", count=more) if more > 0 else ""
        return t(counted("live.title", steps), run=self.run, values=values, steps=f"{steps:,}") + extra

    # --- keys ---------------------------------------------------------------------------------
    def action_log_scale(self) -> None:
        self.log_scale = not self.log_scale
        self.dirty = True

    def action_smoothing(self) -> None:
        self.smoothing = not self.smoothing
        self.dirty = True

    def action_export(self) -> None:
        from engine.exports import default_dir

        path = default_dir() / f"live_run{self.run}.csv"
        kernel = self.app.kernel

        async def export() -> object:
            default_dir().mkdir(parents=True, exist_ok=True)
            return await kernel.request(LiveExport(str(path)))

        ask(self, self.Exported, export)

    def on_live_panel_exported(self, answer: Exported) -> None:
        if answer.error:  # the kernel's message (nothing yet, a disk that is full)
            self.notify(t("live.export_failed", error=answer.error), severity="error")
            return
        self.notify(t("live.exported", path=answer.result), timeout=6)
