"""placeholder"""
from textual.widgets import Static

from tui.screens.base import BaseScreen


class LearnScreen(BaseScreen):
    TITLE_KEY = "screen.learn"
    BINDINGS = []

    def compose_body(self):
        yield Static("LearnScreen", classes="placeholder")
