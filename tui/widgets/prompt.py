"""The line a running cell types into: input(), getpass (not echoed), a debugger's (Pdb) prompt.

Shown in the editor's place while the kernel waits for an answer; up and down walk the answers
given before (pdb's `n`, `p loss`), ctrl+d sends end of file (EOFError in the cell; pdb quits).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from tui.i18n import t

EOF = "\x04"
HISTORY_KEPT = 500


class StdinPrompt(Horizontal):
    DEFAULT_CSS = """
    StdinPrompt { display: none; height: 3; border: round $warning; }
    StdinPrompt.-shown { display: block; }
    StdinPrompt #stdin-label { width: auto; max-width: 60%; height: 1; color: $warning; text-style: bold; }
    StdinPrompt #stdin-input { width: 1fr; height: 1; border: none; padding: 0; }
    """
    BINDINGS = [
        Binding("up", "recall(-1)", "pg.stdin_older", show=False),
        Binding("down", "recall(1)", "pg.stdin_newer", show=False),
        # priority: the field's own ctrl+d (delete right) would come first; it still acts on a
        # line that has text, as in a shell
        Binding("ctrl+d", "end_of_file", "pg.stdin_eof", id="pg.stdin_eof", priority=True),
    ]

    class Answered(Message):
        """The user answered the cell's request; `echo` is the line to show in the output log."""

        def __init__(self, value: str, echo: str) -> None:
            super().__init__()
            self.value = value
            self.echo = echo

    def __init__(self) -> None:
        super().__init__(id="stdin")
        self.history: list[str] = []
        self._recall = 0  # position in history while walking it (len = the line being typed)
        self.prompt = ""
        self.password = False

    def compose(self) -> ComposeResult:
        yield Static("", id="stdin-label", markup=False)
        yield Input(id="stdin-input", placeholder=t("pg.stdin_placeholder"), select_on_focus=False)

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    def ask(self, prompt: str, password: bool) -> None:
        self.prompt, self.password = prompt, password
        self.border_title = t("pg.stdin_password") if password else t("pg.stdin_title")
        self.query_one("#stdin-label", Static).update(prompt)
        field = self.query_one("#stdin-input", Input)
        field.password = password
        field.value = ""
        self._recall = len(self.history)
        self.add_class("-shown")
        field.focus()

    def hide(self) -> None:
        self.remove_class("-shown")

    @on(Input.Submitted, "#stdin-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._answer(event.value)

    def _answer(self, value: str) -> None:
        if not self.shown:
            return
        if value and value != EOF and not self.password and (not self.history or self.history[-1] != value):
            self.history.append(value)
            del self.history[:-HISTORY_KEPT]
        shown = "" if self.password or value == EOF else value
        self.hide()
        self.post_message(self.Answered(value, f"{self.prompt}{shown}\n"))

    def action_end_of_file(self) -> None:
        field = self.query_one("#stdin-input", Input)
        if field.value:
            field.action_delete_right()
        else:
            self._answer(EOF)

    def action_recall(self, step: int) -> None:
        if self.password or not self.history:
            return
        self._recall = max(0, min(len(self.history), self._recall + step))
        field = self.query_one("#stdin-input", Input)
        field.value = self.history[self._recall] if self._recall < len(self.history) else ""
        field.cursor_position = len(field.value)
