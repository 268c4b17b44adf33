"""The one place torchtui uses a private part of Textual, because nothing public does the job.

Keys typed in a burst (a paste over SSH, a fast typist) must reach the widget that has focus once
the key before them has acted: Textual hands each key to whatever was focused when it arrived, so a
key that moves focus lets the next ones land in the widget it left (Textual issue #1199, closed for
Enter in an Input, not for keys in general). TorchTUI.on_event holds such keys and hands them on one
at a time. Handing on a held key must mark it as forwarded, as Textual's own dispatch does, or the
app would take it for a new key when it bubbles back up; only the private `_forward_event` does that.
"""

from __future__ import annotations

from textual import events
from textual.dom import DOMNode


def forward_key(target: DOMNode, event: events.Key | events.Paste) -> None:
    """Give a held key (or paste) to `target` as Textual gives a key to the focused widget."""
    target._forward_event(event)  # type: ignore[attr-defined]  # see the module's docstring
