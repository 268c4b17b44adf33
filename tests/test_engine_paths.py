"""engine/paths.py and the files kept there (history, tour progress) whatever the disk does."""

from __future__ import annotations

import errno
import os

import pytest

from engine import paths
from engine.tour import Progress
from tui.history import History


@pytest.fixture
def broken_state(tmp_path, monkeypatch):
    """A state folder that cannot be created (a file is in the way, as a read-only disk refuses)."""
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "file" / "state"))


def test_state_dir_is_private(tmp_path):
    d = paths.state_dir()
    assert d.is_dir() and (os.stat(d).st_mode & 0o777) == 0o700
    f = paths.write_private(d / "x" / "file.txt", "hi")
    assert (os.stat(f).st_mode & 0o777) == 0o600 and (os.stat(f.parent).st_mode & 0o777) == 0o700


def test_history_and_progress_in_a_folder_that_cannot_be_written(broken_state):
    history = History()
    history.append("a = 1")
    history.append("b = 2")
    assert history.entries == ["a = 1", "b = 2"]  # kept in memory
    warning = history.take_warning()
    assert warning and "history" in warning
    assert history.take_warning() is None  # said once
    progress = Progress()
    progress.mark_read("install")
    assert "cannot be saved" in progress.warning
    progress.warning = ""
    progress.mark_read("create")
    assert progress.warning == ""  # not again for every chapter
    assert progress.read == {"install", "create"}


def test_a_full_disk_loses_nothing_already_kept_and_leaves_no_temp_file(tmp_path, monkeypatch):
    history = History(tmp_path / "history")
    history.append("kept = 1")
    real_write = os.write

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    history.append("x = 2")
    assert "No space left" in history.take_warning()
    with pytest.raises(OSError):
        paths.write_private(tmp_path / "progress.json", "{}")
    monkeypatch.setattr(os, "write", real_write)
    assert not list(tmp_path.glob(".*.tmp"))
    assert History(tmp_path / "history").entries == ["kept = 1"]


def test_temp_files_of_killed_writers_are_swept(tmp_path):
    stale = tmp_path / ".progress.json.999999999.tmp"
    stale.write_text("half a file")
    paths.write_private(tmp_path / "progress.json", "{}")
    assert not stale.exists()
    assert (tmp_path / "progress.json").read_text() == "{}"


def test_compaction_keeps_what_another_app_added(tmp_path):
    path = tmp_path / "history"
    first = History(path, max_entries=3)
    second = History(path, max_entries=3)
    for i in range(3):
        first.append(f"first {i}")
    second.append("second's newest")
    first.append("first 3")  # four entries in this app: past 1.2 × max_entries, it compacts
    assert History(path, max_entries=10).entries == ["first 2", "second's newest", "first 3"]
