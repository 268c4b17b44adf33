"""Cell history that survives a killed process: one os.write of one JSON line per cell, O_APPEND,
mode 0600, bounded (compacted through a temp file and os.replace), torn or corrupt files healed.
A history that is a symbolic link (dotfiles) is read and written through only to a regular file
of the user's; to anything else it is neither, said once."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from pathlib import Path

from engine import paths
from engine.i18n import say

MAX_ENTRIES = 5000
MAX_BYTES = 64 << 20  # far above 5000 cells of any size typed or pasted; bigger is not a history file


class History:
    """The list of submitted cells, oldest first, mirrored to a file."""

    def __init__(self, path: Path | None = None, max_entries: int = MAX_ENTRIES) -> None:
        # not created here: a read-only or broken state folder means a history kept in memory
        self.path = Path(path) if path else paths.state_dir(create=False) / "history"
        # a link to a regular file of the user's (dotfiles) is read and written through: that file
        self.linked = paths.own_link_target(self.path)
        self.file = self.linked or self.path
        self.max_entries = max_entries
        self.entries: list[str] = []
        self.warning: str | None = None
        self._writable = True
        self._load()

    def _load(self) -> None:
        if self.linked is None and self.path.is_symlink():  # to anything else: not read either
            error = paths.UnsafeFile(self.path, "err.path.foreign_link").strerror
            self.warning = say("warn.history.unreadable", path=str(self.path), error=error)
            self._writable = False
            return
        try:  # a regular file only: a FIFO would hang the start, /dev/zero fill the memory
            raw = paths.read_regular(self.file, MAX_BYTES)
        except FileNotFoundError:
            return
        except paths.UnsafeFile as exc:  # moved out of the way (never opened): a new history starts
            try:
                aside = paths.set_aside(self.file)
            except OSError:
                pass
            else:
                self.warning = say("warn.history.moved", path=str(self.path), error=exc.strerror, name=aside.name)
                return
            self.warning = say("warn.history.unreadable", path=str(self.path), error=exc.strerror)
            self._writable = False
            return
        except OSError as exc:
            self.warning = say("warn.history.unreadable", path=self.path, error=exc.strerror)
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
            aside = self.file.with_name(f"{self.file.name}.corrupt-{int(time.time())}")
            try:
                os.replace(self.file, aside)
            except OSError as exc:
                self._cannot_write(exc)
                return
            self.warning = (say("warn.history.set_aside_one", name=aside.name) if bad == 1 else
                            say("warn.history.set_aside", n=bad, name=aside.name))
            self._rewrite()
        elif torn:
            self._append_raw(b"\n")  # heal the torn line so the next record starts cleanly
        if len(self.entries) > self.max_entries:
            self.entries = self.entries[-self.max_entries:]
            self._rewrite()

    def _open(self) -> int:
        paths.ensure_private_dir(self.path.parent)
        # no FIFO, no link (the file a link of the user's leads to is opened itself, if still theirs)
        fd = paths.open_regular(self.file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, own=self.linked is not None)
        os.fchmod(fd, 0o600)
        return fd

    def _cannot_write(self, exc: OSError) -> None:
        self._writable = False
        self.warning = say("warn.history.unsaved", folder=self.path.parent, error=exc.strerror or exc)

    def take_warning(self) -> str | None:
        """The warning not yet shown, once."""
        warning, self.warning = self.warning, None
        return warning

    def _lock(self):
        """An exclusive lock shared by every app using this history (appends and compaction)."""
        paths.ensure_private_dir(self.path.parent)
        fd = paths.open_regular(self.path.with_name(self.path.name + ".lock"), os.O_WRONLY | os.O_CREAT)
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
                    self._write_record(fd, data)
                finally:
                    os.close(fd)
            finally:
                os.close(lock)
        except OSError as exc:
            self._cannot_write(exc)

    @staticmethod
    def _write_record(fd: int, data: bytes) -> None:
        """One os.write of the whole record, under the lock. A write cut short (a full disk) or
        failed is taken back: the file is cut to where it ended before, so no half record is left
        for the next line to run into (that would make the whole file look corrupt two starts
        later); then OSError, and the history goes on in memory, said once."""
        end = os.fstat(fd).st_size  # O_APPEND, and the lock is held: the record starts here
        try:
            written = os.write(fd, data)
        except OSError:
            _cut(fd, end)
            raise
        if written != len(data):
            _cut(fd, end)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # what a short write means

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
                paths.write_private(self.file, body)
            finally:
                os.close(lock)
        except OSError as exc:
            self._cannot_write(exc)

    def _read_entries(self) -> list[str] | None:
        try:
            raw = paths.read_regular(self.file, MAX_BYTES)
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


def _cut(fd: int, end: int) -> None:
    """Cut the file back to `end` bytes; if even that fails, the next start drops the torn line."""
    try:
        os.ftruncate(fd, end)
    except OSError:
        pass
