"""Pixel graphics (Kitty's graphics protocol or Sixel) for the full-screen figure view, through
textual-image, in the terminals that have them.

textual-image asks the terminal what it can do by writing a query and reading the answer from
stdin, which only works before Textual starts reading keys, and costs up to 0.2 s when no answer
comes. So the question is asked only where an answer is likely (a terminal known to draw pixels,
not inside tmux or screen, which pass no graphics through by default), before the app starts.
Everywhere else figures are drawn with half-block characters. TORCHTUI_GRAPHICS=0 never asks;
TORCHTUI_GRAPHICS=1 always asks.
"""

from __future__ import annotations

import os
import sys

PIXEL_TERMINALS = {"xterm-kitty", "foot", "foot-extra", "mlterm", "contour", "wezterm", "xterm-ghostty"}
PIXEL_PROGRAMS = {"WezTerm", "ghostty", "iTerm.app", "kitty"}

_WIDGET: list = []  # the textual-image widget class that draws pixels, once found


def worth_asking(environ: dict, is_tty: bool) -> bool:
    """Whether to ask this terminal for pixel graphics."""
    forced = environ.get("TORCHTUI_GRAPHICS", "")
    if forced in ("0", "1"):
        return forced == "1" and is_tty
    if not is_tty or environ.get("TMUX") or environ.get("STY") or environ.get("TERM", "").startswith(("screen", "tmux")):
        return False
    return (environ.get("TERM", "") in PIXEL_TERMINALS or environ.get("TERM_PROGRAM", "") in PIXEL_PROGRAMS
            or bool(environ.get("KONSOLE_VERSION")) or bool(environ.get("KITTY_WINDOW_ID")))


def prepare() -> None:
    """Before the app starts: find out whether this terminal draws pixels (see the module's text)."""
    stream = sys.__stdout__
    if not worth_asking(dict(os.environ), bool(stream and stream.isatty())):
        return
    try:
        from textual_image import widget
        from textual_image.renderable import halfcell, unicode
    except Exception:  # the terminal gave an answer textual-image could not read: half-blocks
        return
    if widget.AutoRenderable not in (halfcell.Image, unicode.Image):
        _WIDGET.append(widget.Image)


def pixel_widget():
    """The widget class that draws a PIL image with pixels, or None (then half-blocks)."""
    return _WIDGET[0] if _WIDGET else None
