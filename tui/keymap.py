"""The user's own keys: config.toml's [keys] maps binding ids (F1 lists them) to keys, and Textual's
keymap applies them. Checking the ids needs every class that has keys (tui.keyed), so it runs after
the first frame (the screens' modules are otherwise imported only when first shown)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding
from textual.dom import DOMNode

from engine.i18n import Said, said
from tui.keyed import keyed_classes


def binding_ids(classes: Iterable[type[DOMNode]]) -> set[str]:
    return {b.id for cls in classes for b in Binding.make_bindings(cls.BINDINGS) if b.id}


def unknown_ids(keys: Mapping[str, str], app: type[DOMNode]) -> list[Said]:
    """A warning for the ids of [keys] that no binding of `app` (the App's class), its screens and
    widgets has (a typo, or an id from another version)."""
    unknown = sorted(set(keys) - binding_ids(keyed_classes(app)))
    return [said("warn.keys.unknown", ids=", ".join(unknown))] if unknown else []
