"""Helpers that let bindings carry translatable text and be listed by the help screen."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding, BindingsMap

from tui.i18n import t


def translate(bindings: BindingsMap) -> None:
    """Replace each binding's description and tooltip (message keys) by the current language's text."""
    for key, group in bindings.key_to_bindings.items():
        bindings.key_to_bindings[key] = [
            replace(b, description=t(b.description) if b.description else "",
                    tooltip=t(b.tooltip) if b.tooltip else "")
            for b in group
        ]


def rows(bindings: list[Binding]) -> list[tuple[str, str, str]]:
    """(keys, description, tooltip) for every binding that has a description, translated."""
    out = []
    for b in Binding.make_bindings(bindings):
        if not b.description:
            continue
        keys = b.key_display or " / ".join(k.strip() for k in b.key.split(","))
        out.append((keys, t(b.description), t(b.tooltip) if b.tooltip else ""))
    return out
