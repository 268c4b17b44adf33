"""placeholder"""
from textual.widgets import Static

from tui.screens.base import BaseScreen


class PlaygroundScreen(BaseScreen):
    TITLE_KEY = "screen.playground"
    BINDINGS = []

    def compose_body(self):
        yield Static("PlaygroundScreen", classes="placeholder")
