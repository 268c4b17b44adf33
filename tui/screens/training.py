"""placeholder"""
from textual.widgets import Static

from tui.screens.base import BaseScreen


class TrainingScreen(BaseScreen):
    TITLE_KEY = "screen.train"
    BINDINGS = []

    def compose_body(self):
        yield Static("TrainingScreen", classes="placeholder")
