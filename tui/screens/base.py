"""What every screen shares: the status line, the footer, translated keys and a too-small notice."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.bindings import translate
from tui.i18n import t

MIN_WIDTH, MIN_HEIGHT = 80, 24


class BaseScreen(Screen):
    """A screen with a status line on top, a footer of its keys, and a notice if the terminal is too small."""

    TITLE_KEY = "app.name"

    def __init__(self) -> None:
        super().__init__()
        translate(self._bindings)

    def compose(self) -> ComposeResult:
        from tui.widgets.status import StatusLine

        yield StatusLine(t(self.TITLE_KEY))
        with Container(id="body"):
            yield from self.compose_body()
        yield Static(t("app.too_small", width=MIN_WIDTH, height=MIN_HEIGHT), id="too-small")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        self.set_class(width < MIN_WIDTH or height < MIN_HEIGHT, "-too-small")
