"""The user's own keys: config.toml's [keys] maps binding ids (F1 lists them) to keys, and Textual's
keymap applies them. Checking the ids needs every class that has keys, so it runs after the first
frame (the screens' modules are otherwise imported only when first shown)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import import_module

from textual.binding import Binding
from textual.dom import DOMNode

from engine.i18n import Said, said

# Every class with bindings besides the App and the screens of tui.screens.SCREENS: (module, class)
OTHER_KEYED = (
    ("tui.widgets.prompt", "StdinPrompt"),
    ("tui.widgets.live_panel", "LivePanel"),
    ("tui.screens.figure", "FigureView"),
    ("tui.screens.autograd", "ValuesScreen"),
    ("tui.screens.export", "ExportScreen"),
    ("tui.screens.help", "HelpScreen"),
    ("tui.screens.pickers", "Picker"),
    ("tui.screens.confirm", "Confirm"),
)


def keyed_classes() -> list[type[DOMNode]]:
    """The app's class and every screen and widget class that has bindings."""
    from tui.app import TorchTUI
    from tui.screens import SCREENS, screen_class

    return [TorchTUI, *(screen_class(mode) for mode in SCREENS),
            *(getattr(import_module(module), name) for module, name in OTHER_KEYED)]


def binding_ids(classes: Iterable[type[DOMNode]]) -> set[str]:
    return {b.id for cls in classes for b in Binding.make_bindings(cls.BINDINGS) if b.id}


def unknown_ids(keys: Mapping[str, str], classes: Iterable[type[DOMNode]] | None = None) -> list[Said]:
    """A warning for the ids of [keys] that no binding has (a typo, or an id from another version)."""
    unknown = sorted(set(keys) - binding_ids(keyed_classes() if classes is None else classes))
    return [said("warn.keys.unknown", ids=", ".join(unknown))] if unknown else []
