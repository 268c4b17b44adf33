"""Per-thread routing of sys.stdout, sys.stderr and sys.stdin, and cleaning of what cells print.

`sys.stdout` is process-global, yet the app and other threads write while a cell runs: a routed
stream sends writes from the kernel thread to the current cell and everything else where it went
before. Its isatty() is False on the kernel thread, so pydoc prints plain text instead of paging.
"""

from __future__ import annotations

import io
import re
import sys
import threading

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> tuple[str, bool]:
    """Text safe to draw in a terminal widget: escape sequences and control characters removed,
    carriage returns turned into new lines. Returns the text and whether anything was removed."""
    stripped = ANSI.sub("", text)
    stripped = stripped.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = CONTROL.sub("", stripped)
    return cleaned, cleaned != text.replace("\r\n", "\n").replace("\r", "\n")


class NotInTorchtui(RuntimeError):
    """Something that would take over the terminal (reading stdin, a debugger) was refused."""


class _Routed(io.TextIOBase):
    def __init__(self, name: str, fallback) -> None:
        self.name = name
        self.fallback = fallback
        self.owner: int | None = None  # the kernel thread's ident
        self.sink = None  # callable(stream_name, text) for the running cell

    def _mine(self) -> bool:
        return self.sink is not None and threading.get_ident() == self.owner

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self._mine():
            self.sink(self.name, text)
            return len(text)
        if self.fallback is not None:
            return self.fallback.write(text)
        return len(text)

    def flush(self) -> None:
        if not self._mine() and self.fallback is not None:
            try:
                self.fallback.flush()
            except Exception:
                pass

    def isatty(self) -> bool:
        if threading.get_ident() == self.owner:
            return False
        return bool(self.fallback is not None and self.fallback.isatty())

    def fileno(self) -> int:
        if threading.get_ident() == self.owner:
            raise io.UnsupportedOperation("cells have no file descriptor for this stream")
        return self.fallback.fileno()

    @property
    def encoding(self):  # type: ignore[override]
        return "utf-8"


class _RoutedIn(_Routed):
    MESSAGE = ("input() and reading stdin are not available in torchtui's Playground: the terminal "
               "belongs to the app. Put the value in your code instead, e.g. name = 'Ada'")

    def readable(self) -> bool:
        return True

    def _refuse(self):
        raise NotInTorchtui(self.MESSAGE)

    def read(self, size=-1):
        if threading.get_ident() == self.owner:
            self._refuse()
        return self.fallback.read(size)

    def readline(self, size=-1):
        if threading.get_ident() == self.owner:
            self._refuse()
        return self.fallback.readline(size)


class Router:
    """Installs routed stdout/stderr/stdin (again, if something replaced them) for one kernel thread."""

    def __init__(self) -> None:
        self.out = _Routed("stdout", sys.stdout)
        self.err = _Routed("stderr", sys.stderr)
        self.inp = _RoutedIn("stdin", sys.stdin)

    def install(self, owner: int, sink) -> None:
        for stream, attr in ((self.out, "stdout"), (self.err, "stderr"), (self.inp, "stdin")):
            current = getattr(sys, attr)
            if current is not stream:
                stream.fallback = current
                setattr(sys, attr, stream)
            stream.owner = owner
            stream.sink = sink

    def release(self) -> None:
        for stream in (self.out, self.err, self.inp):
            stream.sink = None
