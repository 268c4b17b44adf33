"""Messages that cross screens or come from workers."""

from __future__ import annotations

from textual.message import Message


class KernelMessage(Message):
    """An event from the kernel session (tui.kernel.events), carried to the app in order."""

    def __init__(self, event) -> None:
        super().__init__()
        self.event = event
