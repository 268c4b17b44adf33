"""F1: every key of every screen, read from the bindings themselves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.paths import config_file
from tui.bindings import rows
from tui.i18n import t
from tui.keyed import other_keyed
from tui.screens import SCREENS, screen_class
from tui.widgets.wrapped import Wrapped


def help_table(app_bindings: Iterable[BindingType], keymap: Mapping[str, str]) -> Group:
    """Per section (everywhere, each screen, the prompt line, the live plots, the figure view):
    keys, what they do, and the id that config.toml's [keys] remaps them by."""
    sections: list[tuple[str, Iterable[BindingType]]] = [(t("help.global"), app_bindings)]
    for mode in SCREENS:
        cls = screen_class(mode)
        sections.append((t(cls.TITLE_KEY), list(cls.BINDINGS)))
    sections += [(t(title), list(cls.BINDINGS)) for cls, title in other_keyed() if title]
    parts: list[RenderableType] = []
    for title, bindings in sections:
        table = Table.grid(padding=(0, 2))  # one grid per section: a long title widens no column
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)
        table.add_column(style="dim", no_wrap=True)
        for keys, desc, tip, binding_id in rows(bindings, keymap):
            table.add_row(keys, Wrapped(f"{desc}" + (f" — {tip}" if tip else "")), binding_id)
        parts += [Wrapped(title, style="bold underline"), table, Text("")]
    return Group(*parts)


class HelpScreen(ModalScreen):
    """A scrollable list of all keys; Escape, q or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help-body { width: 90%; height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape,q,f1", "dismiss", "key.close", id="help.close"),
        Binding("down,j", "scroll('down')", show=False),
        Binding("up,k", "scroll('up')", show=False),
    ]

    def __init__(self, app_bindings: Iterable[BindingType], keymap: Mapping[str, str]) -> None:
        super().__init__(id="help")
        self.app_bindings = app_bindings
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text(t("help.title"), style="bold"))
            yield Static(help_table(self.app_bindings, self.keymap), id="help-table")
            yield Static(Wrapped(t("help.editor_note")), id="help-editor")
            yield Static(Wrapped(t("help.remap", path=config_file())), id="help-remap")
            yield Static(Wrapped(t("help.close_hint")))

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        body.scroll_relative(y=1 if direction == "down" else -1, animate=False)

    async def action_dismiss(self, result=None) -> None:
        self.dismiss()
