"""The Training screen's gradient-health panel: per parameter tensor the gradient norm, the weight
norm, the step's update relative to the weight and a sparkline of the recent gradient norms, under
a line that names the layers whose gradients vanish or explode. It shows the latest snapshot the
kernel sent, redrawn on a timer, and as many rows as its height holds (the rest counted)."""

from __future__ import annotations

import math

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

from engine.grad_health import EXPLODE_ABOVE, EXPLODING, VANISH_BELOW, VANISHING, HealthSnapshot, ParamHealth
from tui.i18n import counted, t

REDRAW_HZ = 10
NUMBER = 7  # cells of a norm as 1.2e-03
BLOCKS = "▁▂▃▄▅▆▇█"
NOT_FINITE = "!"
MARKS = {VANISHING: "▼", EXPLODING: "▲"}  # (the colour too, but a mark reads without colours)
STYLES = {VANISHING: "yellow", EXPLODING: "bold red"}
MIN_SPARK = 4
FLAG_LINES = 2


def number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return f"{value:.1e}" if math.isfinite(value) else ("inf" if value > 0 else "-inf")


def power(value: float) -> str:
    """A threshold as written in the issue and the docs: 1e-7, 1e3."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def sparkline(values: tuple[float, ...], width: int) -> str:
    """The last `width` values as blocks on a log scale over their own range (norms span orders
    of magnitude); a NaN or Inf is `!`, a zero the lowest block."""
    shown = values[-width:]
    logs = [math.log10(v) if math.isfinite(v) and v > 0 else None for v in shown]
    finite = [v for v in logs if v is not None]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 0.0)
    out = []
    for v, raw in zip(logs, shown, strict=True):
        if not math.isfinite(raw):
            out.append(NOT_FINITE)
        elif v is None:
            out.append(BLOCKS[0])
        elif hi - lo < 1e-9:
            out.append(BLOCKS[len(BLOCKS) // 2])
        else:
            out.append(BLOCKS[round((v - lo) / (hi - lo) * (len(BLOCKS) - 1))])
    return "".join(out)


def fit(words: str, width: int, left: bool = True) -> str:
    """`words` padded or cut to `width` cells (a long name keeps its end: the parameter's own part)."""
    if cell_len(words) <= width:
        pad = " " * (width - cell_len(words))
        return words + pad if left else pad + words
    kept = words
    while cell_len(kept) > width - 1:
        kept = kept[1:]
    return "…" + kept


class HealthPanel(Widget):
    """The latest HealthSnapshot of the run (None before its first measured step), as a table."""

    DEFAULT_CSS = """
    HealthPanel { padding: 0 1; border-top: solid $accent; }
    """

    def __init__(self) -> None:
        super().__init__(id="health-panel")
        self.snapshot: HealthSnapshot | None = None
        self.dirty = False

    def on_mount(self) -> None:
        self.set_interval(1 / REDRAW_HZ, self._tick)

    def take(self, snapshot: HealthSnapshot | None) -> None:
        """The kernel's latest (None: a new run, nothing measured yet); drawn on the next tick."""
        self.snapshot = snapshot
        self.dirty = True

    def _tick(self) -> None:
        if self.dirty and self.display and self.is_on_screen:
            self.dirty = False
            self.refresh()

    def render(self) -> Text:
        return Text("\n").join(self.lines(self.content_size.width or 60, self.content_size.height or 12))

    def lines(self, width: int, height: int) -> list[Text]:
        """What the panel shows at `width` × `height` cells."""
        s = self.snapshot
        if s is None:
            return [Text(t("health.title_idle"), style="bold"), Text(t("health.waiting"), style="dim")]
        out = [Text(t(counted("health.title", s.tensors), step=f"{s.step:,}", tensors=s.tensors), style="bold")]
        low, high = power(VANISH_BELOW), power(EXPLODE_ABOVE)
        if s.exploding_count:
            out.append(Text(t(counted("health.exploding", s.exploding_count), n=s.exploding_count, high=high,
                              layers=", ".join(s.exploding)), style=STYLES[EXPLODING]))
        if s.vanishing_count:
            out.append(Text(t(counted("health.vanishing", s.vanishing_count), n=s.vanishing_count, low=low,
                              layers=", ".join(s.vanishing)), style=STYLES[VANISHING]))
        if not s.exploding_count and not s.vanishing_count:
            out.append(Text(t("health.fine", low=low, high=high), style="green"))
        wrapped = []  # the flags wrap (their layers are the point), two lines each at most
        for line in out:
            parts = list(line.wrap(self.app.console, max(1, width)))
            if len(parts) > FLAG_LINES:
                parts = parts[:FLAG_LINES]
                parts[-1].truncate(max(1, width - 1))
                parts[-1].append("…")
            wrapped.extend(parts)
        out = wrapped
        names = max((cell_len(r.name) for r in s.rows), default=4)
        name_width = max(8, min(names, (width - 2 - 3 * (NUMBER + 1) - MIN_SPARK - 1)))
        spark = width - 2 - name_width - 3 * (NUMBER + 1) - 1
        header = "  " + fit(t("health.col.name"), name_width) + "".join(
            " " + fit(t(key), NUMBER, left=False) for key in ("health.col.grad", "health.col.weight",
                                                             "health.col.ratio"))
        if spark >= MIN_SPARK:
            header += " " + fit(t("health.col.recent"), spark)
        out.append(Text(header, style="dim"))
        room = max(0, height - len(out))
        rows = list(s.rows)
        hidden = s.left_out
        if len(rows) > room:  # the last line then counts what is not shown
            keep = max(0, room - 1)
            rows, hidden = rows[:keep], hidden + len(rows) - keep
        out.extend(self.row(r, name_width, spark) for r in rows)
        if hidden:
            out.append(Text(t(counted("health.left_out", hidden), n=hidden), style="dim"))
        return out[:height] if height else out

    @staticmethod
    def row(r: ParamHealth, name_width: int, spark: int) -> Text:
        style = STYLES.get(r.verdict, "")
        line = Text()
        line.append(MARKS.get(r.verdict, " ") + " " + fit(r.name, name_width), style=style)
        no_grad = math.isnan(r.grad_norm) and r.verdict != EXPLODING  # the step gave it no gradient
        for value in (r.grad_norm, r.weight_norm, r.update_ratio):
            line.append(" " + fit("—" if no_grad and value is r.grad_norm else number(value), NUMBER, left=False))
        if spark >= MIN_SPARK:
            line.append(" " + sparkline(r.history, spark), style=style or "cyan")
        return line
