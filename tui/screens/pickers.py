"""Small pop-up pickers: search the history (ctrl+r) and choose a snippet (ctrl+o)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.i18n import t


class Picker(ModalScreen[str | None]):
    """A filter box above a list; Enter picks, Escape cancels."""

    DEFAULT_CSS = """
    Picker { align: center middle; }
    Picker > Vertical { width: 90%; height: 80%; border: round $accent; background: $surface; }
    Picker OptionList { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "key.close", id="picker.close"),
        Binding("down", "move(1)", show=False, priority=True),
        Binding("up", "move(-1)", show=False, priority=True),
    ]
    TITLE_KEY = ""

    def __init__(self) -> None:
        super().__init__()
        self._values: list[str] = []

    def entries(self, text: str) -> list[tuple[str, str]]:
        """(label, value) pairs matching `text`."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(t(self.TITLE_KEY))
            yield Input(placeholder=t("picker.filter"), id="filter")
            yield OptionList(id="choices")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, text: str) -> None:
        choices = self.query_one("#choices", OptionList)
        choices.clear_options()
        pairs = self.entries(text)[:300]
        self._values = [v for _, v in pairs]
        choices.add_options([Option(label) for label, _ in pairs])
        if pairs:
            choices.highlighted = 0

    def action_move(self, delta: int) -> None:
        choices = self.query_one("#choices", OptionList)
        if choices.option_count:
            choices.highlighted = ((choices.highlighted or 0) + delta) % choices.option_count

    @on(Input.Submitted, "#filter")
    def _submit(self) -> None:
        index = self.query_one("#choices", OptionList).highlighted
        self.dismiss(self._values[index] if index is not None and self._values else None)

    @on(OptionList.OptionSelected, "#choices")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._values[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class HistorySearch(Picker):
    TITLE_KEY = "picker.history"

    def __init__(self, history) -> None:
        super().__init__()
        self.history = history

    def entries(self, text: str) -> list[tuple[str, str]]:
        return [(source.replace("\n", " ⏎ ")[:200], source) for source in self.history.search(text)]


class SnippetPicker(Picker):
    TITLE_KEY = "picker.snippets"

    def entries(self, text: str) -> list[tuple[str, str]]:
        from tui.snippets import SNIPPETS

        low = text.lower()
        titled = [(t(f"snippet.{key}"), code) for key, code in SNIPPETS]
        return [(f"{title}: {code.splitlines()[0][:50]}", code) for title, code in titled
                if low in title.lower() or low in code.lower()]


class CopyPicker(Picker):
    """What of a cell to copy: its input, its printed output, or its value."""

    TITLE_KEY = "picker.copy"

    def __init__(self, number: int, parts: dict[str, str]) -> None:
        super().__init__()
        self.number, self.parts = number, parts

    def entries(self, text: str) -> list[tuple[str, str]]:
        low = text.lower()
        out = []
        for kind, value in self.parts.items():
            label = f"{t('pg.copy_' + kind)} [{self.number}]: {value.replace(chr(10), ' ⏎ ')[:60]}"
            if low in label.lower():
                out.append((label, kind))
        return out
