"""A yes-or-no question before something that cannot be undone (restarting someone else's kernel)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.i18n import t


class Confirm(ModalScreen[bool]):
    """Title, what will happen, and two buttons; Enter on the focused one, Escape says no.
    The safe answer (no) has focus first."""

    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical { width: 70; max-width: 95%; height: auto; border: round $error; background: $surface;
                         padding: 0 1; }
    Confirm #confirm-title { text-style: bold; }
    Confirm #confirm-text { margin: 1 0; }
    Confirm Horizontal { height: auto; align-horizontal: right; }
    Confirm Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "answer(False)", "key.close", id="confirm.close")]

    def __init__(self, title: str, text: str, yes: str, no: str) -> None:
        super().__init__()
        self._title, self._text, self._yes, self._no = title, text, yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, id="confirm-title")
            yield Static(self._text, id="confirm-text")
            with Horizontal():
                yield Button(self._no, id="confirm-no")
                yield Button(self._yes, id="confirm-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def restart_attached(name: str) -> Confirm:
    return Confirm(t("pg.restart_attached_title"), t("pg.restart_attached", name=name),
                   t("pg.restart_yes"), t("pg.restart_no"))
