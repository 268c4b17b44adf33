"""The competitors: the smallest Textual apps doing the same visible job as torchtui's screens."""

import sys

from textual.app import App
from textual.widgets import Footer, Input, Static, TextArea


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


if __name__ == "__main__":
    {"hello": Hello, "editor": Editor, "form": Form}[sys.argv[1]]().run()
