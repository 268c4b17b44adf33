"""Where torchtui keeps its files (XDG base directories), created private to the user, and the one
way it writes a file: a regular file or nothing is replaced, never a FIFO, a device, a socket or a
symbolic link, and the new file is mode 0600 (see `write_private`); and the one way it reads its
state and config files: regular files only, size-capped, never blocking (see `read_regular`)."""

from __future__ import annotations

import errno
import os
import secrets
import stat
import time
from pathlib import Path

from .i18n import SaidError, said, spoken

APP = "torchtui"


def _base(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "").strip()
    # The XDG spec says relative paths are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def state_dir(create: bool = True) -> Path:
    """The folder for history, exports and progress: $XDG_STATE_HOME/torchtui."""
    path = _base("XDG_STATE_HOME", ".local/state") / APP
    if create:
        ensure_private_dir(path)
    return path


def config_dir() -> Path:
    """The folder for config.toml: $XDG_CONFIG_HOME/torchtui (never created by us)."""
    return _base("XDG_CONFIG_HOME", ".config") / APP


def config_file() -> Path:
    return config_dir() / "config.toml"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) with mode 0700 for the folders we create."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
    return path


class UnsafeFile(SaidError, OSError):
    """A path torchtui will not write to (or read as one of its files): not a regular file (a FIFO,
    a device, a socket, a folder) or a symbolic link. `strerror` says why in one clause, for the
    callers that say "could not write PATH: ..." """

    def __init__(self, path: Path | str, code: str, /, **values) -> None:
        SaidError.__init__(self, code, **values)
        self.filename = str(path)
        self.strerror = self.said.words(spoken())


def kind_of(mode: int):
    """What a file that is not a regular one is, in words (a Said)."""
    for test, key in ((stat.S_ISLNK, "link"), (stat.S_ISFIFO, "fifo"), (stat.S_ISCHR, "char"),
                      (stat.S_ISBLK, "block"), (stat.S_ISSOCK, "socket"), (stat.S_ISDIR, "dir")):
        if test(mode):
            return said(f"path.kind.{key}")
    return said("path.kind.other")


def check_replaceable(path: Path) -> None:
    """Raise UnsafeFile unless `path` is a regular file or nothing (never followed if a link)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        return
    if stat.S_ISLNK(mode):
        raise UnsafeFile(path, "err.path.write_link")
    raise UnsafeFile(path, "err.path.write_kind", kind=kind_of(mode))


def write_private(path: Path, data: bytes | str) -> Path:
    """Write a whole file atomically with mode 0600: a temp file beside it (created new, O_EXCL and
    O_NOFOLLOW, so nothing planted there is followed), then os.replace over a regular file or over
    nothing. A FIFO, a device, a socket, a folder or a symbolic link at `path` is refused
    (UnsafeFile, an OSError) and left as it was: nothing is opened there, so nothing blocks. A temp
    file is never left behind: removed when the write fails (a full disk), and those of killed
    processes are swept on the next write."""
    path = Path(path)
    check_replaceable(path)
    ensure_private_dir(path.parent)
    sweep_temp_files(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp, fd = _new_temp_file(path)
    try:
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(raw)
            while view:
                written = os.write(fd, view)
                if written <= 0:  # no progress and no error: as good as a full disk
                    raise OSError(28, os.strerror(28), str(path))  # ENOSPC
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        check_replaceable(path)  # again: something may have been put there meanwhile
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def read_regular(path: Path, limit: int) -> bytes:
    """The whole of a state or config file, which must be a regular file (a link to one is
    followed) of at most `limit` bytes. FileNotFoundError when there is none; UnsafeFile (an
    OSError) for a FIFO, a device, a socket or a folder, which is not even opened, or for a file
    over the limit. The open is O_NONBLOCK and what was opened is checked again (fstat), so a FIFO
    put there meanwhile cannot block the caller and /dev/zero is never read."""
    path = Path(path)
    _check_readable(path, os.stat(path))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        status = os.fstat(fd)
        _check_readable(path, status)
        check_size(path, status, limit)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while being read
            raise UnsafeFile(path, "err.path.too_big", limit=_megabytes(limit))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _check_readable(path: Path, status: os.stat_result) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise UnsafeFile(path, "err.path.read_kind", kind=kind_of(status.st_mode))


def _megabytes(limit: int) -> str:
    return f"{limit / 2**20:g} MiB"


def check_size(path: Path, status: os.stat_result, limit: int) -> None:
    """Raise UnsafeFile if the file `status` describes is larger than `limit` bytes."""
    if status.st_size > limit:
        raise UnsafeFile(path, "err.path.too_big", limit=_megabytes(limit))


def own_link_target(path: Path) -> Path | None:
    """Where `path` leads when it is a symbolic link (a dotfiles checkout's, say) to a regular file
    of this user's: that file's real path. None when it is no link, or a link to anything else."""
    path = Path(path)
    if not path.is_symlink():
        return None
    real = Path(os.path.realpath(path))
    try:
        status = os.stat(real, follow_symlinks=False)
    except OSError:
        return None
    return real if stat.S_ISREG(status.st_mode) and status.st_uid == os.getuid() else None


def open_regular(path: Path, flags: int, mode: int = 0o600, own: bool = False) -> int:
    """os.open of a file torchtui keeps (history, its lock): a regular file or a new one, never
    through a symbolic link (O_NOFOLLOW), never blocking on a FIFO (O_NONBLOCK, then fstat). Raises
    UnsafeFile for anything else. `own`: the file must also be this user's (own_link_target()'s,
    checked again on what was opened)."""
    path = Path(path)
    try:
        fd = os.open(path, flags | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                     mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a link (EMLINK on FreeBSD)
            raise UnsafeFile(path, "err.path.write_link") from None
        if exc.errno == errno.ENXIO:  # a FIFO nobody reads (O_WRONLY | O_NONBLOCK)
            raise UnsafeFile(path, "err.path.write_kind", kind=said("path.kind.fifo")) from None
        raise
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        os.close(fd)
        raise UnsafeFile(path, "err.path.write_kind", kind=kind_of(status.st_mode))
    if own and status.st_uid != os.getuid():  # the link's file was swapped for another's meanwhile
        os.close(fd)
        raise UnsafeFile(path, "err.path.foreign_link")
    return fd


def set_aside(path: Path) -> Path:
    """Move a state file torchtui cannot use out of the way (renamed, never opened):
    NAME.corrupt-TIME beside it. Raises OSError when it cannot be moved."""
    path = Path(path)
    aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
    os.replace(path, aside)
    return aside


def process_alive(pid: int) -> bool:
    """Whether process `pid` still runs (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _new_temp_file(path: Path) -> tuple[Path, int]:
    """A new temp file beside `path`, `.NAME.PID-TOKEN.tmp`, open for writing, mode 0600."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _attempt in range(100):
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            return tmp, os.open(tmp, flags, 0o600)
        except FileExistsError:
            continue
    raise FileExistsError(17, os.strerror(17), str(path))  # EEXIST


def sweep_temp_files(path: Path) -> None:
    """Remove `.NAME.PID-TOKEN.tmp` (and older `.NAME.PID.tmp`) files beside `path` whose process
    is gone (killed mid-write)."""
    try:
        for tmp in path.parent.glob(f".{path.name}.*.tmp"):
            pid = tmp.name[len(path.name) + 2:-4].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
                tmp.unlink()
    except OSError:
        pass
