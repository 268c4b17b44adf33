"""Every class with keys of its own besides the App, named here once: the user's [keys] are checked
against all of them (tui.keymap) and F1 lists their keys (tui.screens.help). Named rather than
imported, as tui.screens.SCREENS names the screens: their modules are imported only when first
shown. The App is not named: it passes its own class to whoever needs it (importing it here would
tie this module to the App that imports it)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from tui.screens import SCREENS, screen_class

if TYPE_CHECKING:
    from textual.dom import DOMNode

# Besides the screens of tui.screens.SCREENS: (module, class, the catalog key of its section's title
# in F1, or None for a dialog, whose only listed key closes it)
OTHER_KEYED: tuple[tuple[str, str, str | None], ...] = (
    ("tui.widgets.prompt", "StdinPrompt", "help.stdin"),
    ("tui.widgets.live_panel", "LivePanel", "help.live"),
    ("tui.screens.figure", "FigureView", "help.figure"),
    ("tui.screens.autograd", "ValuesScreen", None),
    ("tui.screens.export", "ExportScreen", None),
    ("tui.screens.help", "HelpScreen", None),
    ("tui.screens.pickers", "Picker", None),
    ("tui.screens.confirm", "Confirm", None),
)


def other_keyed() -> list[tuple[type[DOMNode], str | None]]:
    """Each class of OTHER_KEYED, imported, with its F1 section's title key."""
    return [(getattr(import_module(module), name), title) for module, name, title in OTHER_KEYED]


def keyed_classes(app: type[DOMNode]) -> list[type[DOMNode]]:
    """`app` (the App's own class) and every screen and widget class that has bindings."""
    return [app, *(screen_class(mode) for mode in SCREENS), *(cls for cls, _ in other_keyed())]
