"""A footer that shows only the keys that fit, whole: at 80 columns (and in Chinese, whose
characters take two cells) Textual's footer cuts the last key in half (`f2 Playgroun`, `^p   令面板`).
The screen's own keys come first, then F1 (which lists every key) and the app's."""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer

from tui.i18n import t


def key_width(key, compact: bool) -> int:
    """The cells a footer key (Textual's FooterKey: key_display and description) takes, as it
    renders itself."""
    label = cell_len(key.key_display)
    description = cell_len(key.description)
    if compact:
        return label + (1 + description if description else 0)
    return label + 2 + (description + 1 if description else 0)


def app_rank(action: str) -> int:
    """After the screen's own keys: help (which lists every key), quit, then the screens. By
    action, not key: a user's keymap may have moved them."""
    if action == "help":
        return 1
    if action == "quit":
        return 2
    return 3 if action.startswith("switch_mode") else 0


class FittingFooter(Footer):
    def compose(self) -> ComposeResult:
        items = sorted(super().compose(), key=lambda item: app_rank(getattr(item, "action", "")))
        for item in items:  # bindings carry catalog keys: worded here, in the reader's language
            description = getattr(item, "description", None)  # a footer key (others are groups)
            if isinstance(description, str):
                item.description = t(description) if description else ""  # type: ignore[attr-defined]
                if isinstance(item.tooltip, str) and item.tooltip:
                    item.tooltip = t(item.tooltip)
        width = self.size.width
        if not width:  # not laid out yet: the first frame shows them all, a resize trims them
            yield from items
            return
        palette = [w for w in items if w.has_class("-command-palette")]
        room = width - sum(key_width(w, self.compact) + 1 for w in palette)
        helps = [w for w in items if getattr(w, "action", "") == "help"]
        room -= sum(key_width(w, self.compact) for w in helps)  # F1 always shows: it lists the rest
        kept = []
        for item in items:
            if item in palette:
                continue
            if item in helps:
                kept.append(item)
                continue
            need = key_width(item, self.compact) if hasattr(item, "key_display") else width
            if need > room:
                break
            kept.append(item)
            room -= need
        if helps and helps[0] not in kept:
            kept.append(helps[0])
        self.styles.grid_size_columns = max(1, len(kept))
        yield from kept
        yield from palette

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != getattr(self, "_fitted_width", None):
            self._fitted_width = event.size.width
            self.call_after_refresh(self.recompose)
