"""What every screen shares: the status line, the footer, translated keys and a too-small notice.

A screen draws its first frame with just the status line, then mounts its body and footer: the
many widgets of a full screen cost more to style than the rest of start-up, and the first frame
should not wait for them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Container
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Static

from tui.i18n import t

if TYPE_CHECKING:
    from textual import getters

    from tui.app import TorchTUI

MIN_WIDTH, MIN_HEIGHT = 80, 24


class Body(Container):
    """The screen-specific part, composed by the screen's compose_body() once the first frame is out."""

    def compose(self) -> ComposeResult:
        screen = self.screen
        assert isinstance(screen, BaseScreen)  # (a Body is only ever mounted by one)
        yield from screen.compose_body()


class BaseScreen(Screen):
    """A screen with a status line on top, a footer of its keys, and a notice if the terminal is too small."""

    SCOPED_CSS = False  # rules key on the screen's own class (-too-small); ids are unique per screen
    DEFAULT_CSS = """
    BaseScreen { layout: vertical; }
    #body { height: 1fr; }
    #too-small { display: none; height: 1fr; content-align: center middle; text-style: bold; }
    .-too-small #body { display: none; }
    .-too-small #too-small { display: block; }
    """

    TITLE_KEY = "app.name"

    if TYPE_CHECKING:
        app = getters.app(TorchTUI)  # (what self.app is, for the type checker)

    def __init__(self) -> None:
        super().__init__()
        self.ready = False  # True once the body is mounted and body_ready() has run
        self.keys_ready = False  # True once focus is where body_ready() put it: keys go there
        self._on_ready: list[Callable[[Any], object]] = []  # what navigate() asked to do once ready

    def compose(self) -> ComposeResult:
        from tui.widgets.status import StatusLine

        yield StatusLine(t(self.TITLE_KEY))
        yield Static(t("app.too_small", width=MIN_WIDTH, height=MIN_HEIGHT), id="too-small")

    def compose_body(self) -> ComposeResult:
        yield from ()

    def body_ready(self) -> None:
        """Called once the body's widgets are mounted: the place for what on_mount would do."""

    def on_mount(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)
        # The app's very first screen waits for the app's Ready event (sent once the first frame
        # is written, see TorchTUI.on_ready); screens shown later build their body at once.
        if self.app.first_frame_out:
            self.call_after_refresh(self.build_body)

    async def build_body(self) -> None:
        if self.query("#body"):
            return
        from tui.widgets.footer import FittingFooter

        await self.mount(Body(id="body"), before="#too-small")
        await self.mount(FittingFooter())
        self.ready = True
        self.body_ready()
        waiting, self._on_ready = self._on_ready, []
        for then in waiting:
            await self._run(then)
        self.refresh_bindings()  # a footer mounted after the screen is shown needs its keys pushed
        # focus() takes effect through the app's queue: keys typed so far follow it there
        self.app.call_later(self._accept_keys)
        from tui.long_lived import freeze_long_lived

        # A screen's widgets live as long as the app: keep full collections (which stall every
        # thread) from walking them again and again.
        freeze_long_lived()

    async def when_ready(self, then: Callable[[Any], object]) -> None:
        """Call `then(self)` once the body is mounted (now, if it is); an awaitable it returns is
        awaited (a screen's action run from the command palette)."""
        if self.ready:
            await self._run(then)
        else:
            self._on_ready.append(then)

    async def _run(self, then: Callable[[Any], object]) -> None:
        result = then(self)
        if inspect.isawaitable(result):
            await result

    def _accept_keys(self) -> None:
        self.keys_ready = True
        self.app.release_keys()

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        if small == self.has_class("-too-small"):
            return
        if small:
            # the body is hidden, and focus with it: remembered, to be given back; keys typed
            # meanwhile wait (as at start-up) and go to it then, none lost
            self._focus_before_small = self.focused
            if self.ready:
                self.keys_ready = False
        self.set_class(small, "-too-small")
        if not small:
            widget = getattr(self, "_focus_before_small", None)
            if widget is not None and widget.is_attached:
                widget.focus()
            if self.ready and not self.keys_ready:
                # focus() takes effect through the app's queue: the waiting keys follow it there
                self.app.call_later(self._accept_keys)
