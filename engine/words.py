"""How a message quotes the value it is about (no torch, no Textual): the headless commands'
range errors and the app's refusals of a connection file both use it."""

from __future__ import annotations

import json

SHOWN_CHARS = 40  # of a rejected value, in a message


def shown(value: object, most: int = SHOWN_CHARS) -> str:
    """A rejected value as a message quotes it: a string in quotes (repr, so a control character or
    a lone surrogate is seen, not printed), anything else as JSON; past `most` characters cut short
    with "…", so a 5,000-digit number or a 100 KiB path is not echoed whole."""
    if isinstance(value, str):
        return repr(value if len(value) <= most else value[:most] + "…")
    text = json.dumps(value)
    return text if len(text) <= most else text[:most] + "…"
