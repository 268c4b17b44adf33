"""The figures a session drew, one at a time over the whole screen: ← and → walk them, Escape
goes back to the Playground. `%save NAME.png` writes the newest one. Drawn with pixels in the
terminals that can (tui.graphics), else with half-block characters."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.i18n import t
from tui.widgets.figure import HalfBlocks
from tui.widgets.footer import FittingFooter


class FigureView(ModalScreen[None]):
    DEFAULT_CSS = """
    FigureView { background: $surface; }
    FigureView #figure-title { height: 1; padding: 0 1; text-style: bold; }
    FigureView #figure { width: 1fr; height: 1fr; content-align: center middle; }
    """
    BINDINGS = [
        Binding("escape,q,f8", "dismiss", "key.close", id="figure.close"),
        Binding("left", "step(-1)", "figure.previous", id="figure.previous"),
        Binding("right", "step(1)", "figure.next", id="figure.next"),
    ]

    def __init__(self, figures: list[bytes]) -> None:
        super().__init__()
        self.figures = figures
        self.index = len(figures) - 1

    def compose(self) -> ComposeResult:
        from tui.graphics import pixel_widget

        yield Static("", id="figure-title")
        pixels = pixel_widget()  # Kitty graphics or Sixel where the terminal draws them
        yield pixels(id="figure") if pixels is not None else Static("", id="figure")
        yield FittingFooter()

    def on_mount(self) -> None:
        self._show()

    def on_resize(self) -> None:
        self._show()

    def action_step(self, step: int) -> None:
        self.index = max(0, min(len(self.figures) - 1, self.index + step))
        self._show()

    def _show(self) -> None:
        if not self.is_mounted:  # a resize before the view is built
            return
        view: Any = self.query_one("#figure")  # a Static, or textual-image's widget (no type information)
        self.query_one("#figure-title", Static).update(
            t("figure.title", number=self.index + 1, count=len(self.figures)))
        png = self.figures[self.index]
        if isinstance(view, Static):
            view.update(HalfBlocks(png, max_rows=max(1, view.size.height or self.size.height - 2)))
        else:
            import io

            from PIL import Image

            view.image = Image.open(io.BytesIO(png))
