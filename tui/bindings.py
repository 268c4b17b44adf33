"""What the keys say: bindings carry catalog keys as their description and tooltip, worded in the
reader's language where they are shown (the footer, F1), and the keys a user's keymap gave them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding, BindingType

from tui.i18n import t


def keys_of(binding: Binding, keymap: Mapping[str, str]) -> str:
    """The keys that run `binding` as F1 lists them: the user's own (config.toml's [keys]) if they
    remapped its id, else its own."""
    keys = keymap.get(binding.id, binding.key) if binding.id else binding.key  # (the keymap's: all of them)
    if binding.key_display and keys == binding.key:
        return binding.key_display
    return " / ".join(k.strip() for k in keys.split(","))


def rows(bindings: Iterable[BindingType], keymap: Mapping[str, str] | None = None
         ) -> list[tuple[str, str, str, str]]:
    """(keys, description, tooltip, id) for every binding that has a description, in words; the
    keys of one binding ("escape,q") on one row."""
    keymap = keymap or {}
    out: dict[tuple[str, str], list] = {}
    for b in Binding.make_bindings(bindings):
        if not b.description:
            continue
        row = out.setdefault((b.id or b.action, b.description), [[], t(b.description),
                                                                  t(b.tooltip) if b.tooltip else "", b.id or ""])
        keys = keys_of(b, keymap)
        if keys not in row[0]:
            row[0].append(keys)
    return [(" / ".join(keys), description, tooltip, binding_id) for keys, description, tooltip, binding_id
            in out.values()]
