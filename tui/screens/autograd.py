"""placeholder"""
from textual.widgets import Static

from tui.screens.base import BaseScreen


class AutogradScreen(BaseScreen):
    TITLE_KEY = "screen.autograd"
    BINDINGS = []

    def compose_body(self):
        yield Static("AutogradScreen", classes="placeholder")
