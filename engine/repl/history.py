"""Cell history that survives a killed process: one os.write of one JSON line per cell, O_APPEND,
mode 0600, bounded (compacted through a temp file and os.replace), torn or corrupt files healed."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from engine import paths

MAX_ENTRIES = 5000


class History:
    """The list of submitted cells, oldest first, mirrored to a file."""

    def __init__(self, path: Path | None = None, max_entries: int = MAX_ENTRIES) -> None:
        # not created here: a read-only or broken state folder means a history kept in memory
        self.path = Path(path) if path else paths.state_dir(create=False) / "history"
        self.max_entries = max_entries
        self.entries: list[str] = []
        self.warning: str | None = None
        self._writable = True
        self._load()

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.warning = f"history file {self.path} could not be read ({exc.strerror}); history is not saved"
            self._writable = False
            return
        lines = raw.split(b"\n")
        torn = lines and lines[-1] != b""
        bad = 0
        for i, line in enumerate(lines):
            if not line:
                continue
            try:
                record = json.loads(line)
                self.entries.append(str(record["src"]))
            except (ValueError, KeyError, TypeError, RecursionError):  # [[[[… a hundred thousand deep
                if torn and i == len(lines) - 1:
                    continue  # a write cut short by a kill: drop just that line
                bad += 1
        if bad:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            try:
                os.replace(self.path, aside)
            except OSError as exc:
                self._cannot_write(exc)
                return
            self.warning = f"history file had {bad} unreadable line(s); it was set aside as {aside.name}"
            self._rewrite()
        elif torn:
            self._append_raw(b"\n")  # heal the torn line so the next record starts cleanly
        if len(self.entries) > self.max_entries:
            self.entries = self.entries[-self.max_entries:]
            self._rewrite()

    def _open(self) -> int:
        paths.ensure_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        return fd

    def _cannot_write(self, exc: OSError) -> None:
        self._writable = False
        self.warning = (f"history cannot be saved in {self.path.parent} ({exc.strerror or exc}): "
                        "this session's cells are kept in memory only")

    def take_warning(self) -> str | None:
        """The warning not yet shown, once."""
        warning, self.warning = self.warning, None
        return warning

    def _lock(self):
        """An exclusive lock shared by every app using this history (appends and compaction)."""
        import fcntl

        paths.ensure_private_dir(self.path.parent)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def _append_raw(self, data: bytes) -> None:
        if not self._writable:
            return
        try:
            lock = self._lock()
            try:
                fd = self._open()
                try:
                    os.write(fd, data)
                finally:
                    os.close(fd)
            finally:
                os.close(lock)
        except OSError as exc:
            self._cannot_write(exc)

    def _rewrite(self) -> None:
        """Compact the file to the newest max_entries cells. Read again under the lock first: another
        app on this history may have added cells since this one loaded it, and they are kept."""
        if not self._writable:
            return
        try:
            lock = self._lock()
            try:
                on_disk = self._read_entries()
                entries = on_disk if on_disk is not None else self.entries
                entries = entries[-self.max_entries:]
                body = "".join(json.dumps({"t": 0, "src": s}, ensure_ascii=False) + "\n" for s in entries)
                paths.write_private(self.path, body)
            finally:
                os.close(lock)
        except OSError as exc:
            self._cannot_write(exc)

    def _read_entries(self) -> list[str] | None:
        try:
            raw = self.path.read_bytes()
        except OSError:
            return None
        out = []
        for line in raw.split(b"\n"):
            try:
                out.append(str(json.loads(line)["src"]))
            except (ValueError, KeyError, TypeError, RecursionError):
                continue
        return out

    def append(self, source: str) -> None:
        """Record a cell: one write, so a kill -9 right after loses nothing already submitted."""
        if not source.strip():
            return
        if self.entries and self.entries[-1] == source:
            return
        self.entries.append(source)
        record = json.dumps({"t": round(time.time(), 3), "src": source}, ensure_ascii=False) + "\n"
        self._append_raw(record.encode("utf-8"))
        if len(self.entries) > self.max_entries * 1.2:
            self.entries = self.entries[-self.max_entries:]
            self._rewrite()

    def search(self, text: str) -> list[str]:
        """Cells containing `text`, newest first, without repeats."""
        seen, out = set(), []
        for source in reversed(self.entries):
            if text in source and source not in seen:
                seen.add(source)
                out.append(source)
        return out
