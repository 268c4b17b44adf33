"""Keep the garbage collector's full passes short in the app's process.

A full collection walks every tracked object and stops the UI while it does: with a screen's
widgets, or 20,000 lines in the output log, that is 60-300 ms. Objects that live as long as the
app are moved out of its sight once they exist."""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Collect the young generations (so no fresh cyclic garbage is kept for ever), then move
    every object alive now out of the collector's sight."""
    gc.collect(1)
    gc.freeze()
