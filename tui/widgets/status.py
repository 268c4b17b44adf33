"""The one-line header each screen shows: the screen's name and torch's state and device."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from textual import getters

    from tui.app import TorchTUI


class StatusLine(Static):
    """`torchtui · Playground` on the left, `torch 2.13.0 · cpu` (or `loading torch…`) on the right."""

    if TYPE_CHECKING:
        app = getters.app(TorchTUI)  # (what self.app is, for the type checker)

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $primary-background; color: $text; }
    """

    def __init__(self, title: str) -> None:
        super().__init__(id="status-line")
        self.title = title

    def on_mount(self) -> None:
        self.watch(self.app, "status_text", self._redraw)

    def _redraw(self, _value: str = "") -> None:
        self.refresh()

    def render(self) -> Text:
        left = Text.assemble(("torchtui", "bold"), " · ", self.title)
        right = Text(self.app.status_text)
        gap = max(1, self.size.width - left.cell_len - right.cell_len)
        return Text.assemble(left, " " * gap, right)
