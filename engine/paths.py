"""Where torchtui keeps its files (XDG base directories), created private to the user."""

from __future__ import annotations

import os
from pathlib import Path

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


def write_private(path: Path, data: bytes | str) -> Path:
    """Write a whole file atomically with mode 0600 (temp file, then rename). A temp file is never
    left behind: removed when the write fails (a full disk), and those of killed processes are
    swept on the next write."""
    path = Path(path)
    ensure_private_dir(path.parent)
    sweep_temp_files(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def process_alive(pid: int) -> bool:
    """Whether process `pid` still runs (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_temp_files(path: Path) -> None:
    """Remove `.NAME.PID.tmp` files beside `path` whose process is gone (killed mid-write)."""
    try:
        for tmp in path.parent.glob(f".{path.name}.*.tmp"):
            pid = tmp.name[len(path.name) + 2:-4]
            if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
                tmp.unlink()
    except OSError:
        pass
