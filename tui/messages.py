"""Messages that cross screens or come from worker threads."""

from __future__ import annotations

from textual.message import Message


class TorchReady(Message):
    """torch finished importing in the background; `error` is set if it failed."""

    def __init__(self, version: str, device: str, device_text: str, error: str = "") -> None:
        super().__init__()
        self.version = version
        self.device = device
        self.device_text = device_text
        self.error = error


class DeviceStatus(Message):
    """A fresh device line (CUDA memory in use), read off the UI thread."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DeviceStatus)


class KernelEvent(Message):
    """An event from the Playground's kernel thread (engine.repl.kernel), carried to the UI thread."""

    def __init__(self, event) -> None:
        super().__init__()
        self.event = event


class TerminalOutput(Message):
    """Bytes written straight to file descriptors 1 or 2 (by a subprocess or C code), decoded."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
