"""Keep writes to file descriptors 1 and 2 off the screen while the app runs.

Subprocesses (`os.system("ls")`) and C libraries write straight to fds 1 and 2, past sys.stdout,
and would scribble over the TUI. While the app runs, a pipe stands in for both fds and a thread
hands what arrives to the app, which shows it in the Playground. The app itself draws through
duplicates of the original terminal fds, installed as sys.__stdout__ / sys.__stderr__ (where
Textual's driver writes and reads the terminal size).
"""

from __future__ import annotations

import io
import os
import sys
import threading
from collections.abc import Callable

CHUNK = 65536


class FdCapture:
    def __init__(self) -> None:
        self.sink: Callable[[str], None] | None = None
        self.pending: list[str] = []
        self._saved: tuple[int, int] | None = None
        self._streams: tuple = ()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @staticmethod
    def wanted() -> bool:
        try:
            return os.isatty(1) and os.isatty(2) and sys.platform != "win32"
        except (OSError, ValueError):
            return False

    def start(self) -> None:
        out_fd, err_fd = os.dup(1), os.dup(2)
        self._saved = (out_fd, err_fd)
        self._streams = (sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr)
        terminal_out = io.TextIOWrapper(io.FileIO(os.dup(out_fd), "w"), encoding="utf-8", errors="replace",
                                        line_buffering=True)
        terminal_err = io.TextIOWrapper(io.FileIO(os.dup(err_fd), "w"), encoding="utf-8", errors="replace",
                                        line_buffering=True)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        sys.__stdout__ = sys.stdout = terminal_out
        sys.__stderr__ = sys.stderr = terminal_err
        self._thread = threading.Thread(target=self._drain, args=(read_fd,), name="fd-capture", daemon=True)
        self._thread.start()

    def _drain(self, read_fd: int) -> None:
        decoder = io.IncrementalNewlineDecoder(None, translate=False)
        while True:
            try:
                data = os.read(read_fd, CHUNK)
            except OSError:
                break
            if not data:
                break
            text = decoder.decode(data.decode("utf-8", errors="replace"))
            with self._lock:
                if self.sink is None:
                    self.pending.append(text)
                    continue
            self.sink(text)
        os.close(read_fd)

    def connect(self, sink: Callable[[str], None]) -> None:
        """Start delivering captured text to `sink` (called from the capture thread)."""
        with self._lock:
            self.sink = sink
            pending, self.pending = self.pending, []
        for text in pending:
            sink(text)

    def stop(self) -> None:
        """Give fds 1 and 2 back to the terminal; the capture thread then ends."""
        if self._saved is None:
            return
        out_fd, err_fd = self._saved
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.close(out_fd)
        os.close(err_fd)
        sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr = self._streams
        self._saved = None
