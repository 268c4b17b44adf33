"""The competitors: the smallest Textual apps doing the same visible job as torchtui's screens."""

import sys

from textual.app import App
from textual.widgets import Footer, Input, RichLog, Static, TextArea


class Hello(App):
    """Time-to-first-frame yardstick: a Static and a Footer."""

    def compose(self):
        yield Static("HELLO-READY")
        yield Footer()


class Editor(App):
    """Keystroke-echo yardstick: a bare TextArea with nothing else running."""

    def compose(self):
        yield Static("EDITOR-READY")
        yield TextArea(id="editor")

    def on_mount(self):
        self.query_one(TextArea).focus()


class Form(App):
    """Keystroke-echo yardstick for the training form: a bare Input."""

    def compose(self):
        yield Static("FORM-READY")
        yield Input(id="field")

    def on_mount(self):
        self.query_one(Input).focus()


class Repl(App):
    """Trivial-cell yardstick: Enter writes the answer to a log at once, no kernel, no Python run."""

    def compose(self):
        yield Static("REPL-READY")
        yield RichLog(id="log")
        yield Input(id="cell")

    def on_mount(self):
        self.count = 0
        self.query_one(Input).focus()

    def on_input_submitted(self, event):
        self.count += 1
        log = self.query_one(RichLog)
        log.write(f"In [{self.count}]: {event.value}")
        log.write(f"Out[{self.count}]: 2")
        event.input.value = ""


if __name__ == "__main__":
    {"hello": Hello, "editor": Editor, "form": Form, "repl": Repl}[sys.argv[1]]().run()
