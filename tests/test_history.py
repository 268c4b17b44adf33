"""tui/history.py: the Playground's history survives kill -9, torn lines and its bound."""

import os
import signal
import subprocess
import sys
import textwrap

from tui.history import History


def test_history_survives_kill(tmp_path):
    path = tmp_path / "history"
    script = textwrap.dedent(f"""
        import os, time
        from tui.history import History
        h = History({str(path)!r})
        h.append("a = 1")
        h.append("for i in range(3):\\n    print(i)")
        print("written", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "written"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    h = History(path)
    assert h.entries == ["a = 1", "for i in range(3):\n    print(i)"]
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_history_heals_torn_line_and_sets_corrupt_file_aside(tmp_path):
    path = tmp_path / "history"
    path.write_bytes(b'{"t": 1, "src": "ok = 1"}\n{"t": 2, "src": "tor')
    h = History(path)
    assert h.entries == ["ok = 1"] and h.warning is None
    h.append("next = 2")
    assert History(path).entries == ["ok = 1", "next = 2"]
    path.write_bytes(b"\x00\xff garbage\nmore garbage\n")
    h = History(path)
    assert h.entries == [] and "set aside" in h.warning
    assert list(tmp_path.glob("history.corrupt-*"))


def test_history_is_bounded(tmp_path):
    h = History(tmp_path / "history", max_entries=10)
    for i in range(30):
        h.append(f"x = {i}")
    again = History(tmp_path / "history", max_entries=10)
    assert len(again.entries) <= 12 and again.entries[-1] == "x = 29"
    assert h.search("x = 2")[0] == "x = 29"


def test_a_history_that_is_a_link_to_the_users_own_file_is_read_appended_and_compacted_through_it(tmp_path):
    """A dotfiles checkout links the history to its own file: it is read and written there, the
    link stays a link (compaction replaces the file it leads to), and nothing is warned."""
    dotfiles, state = tmp_path / "dotfiles", tmp_path / "state"
    dotfiles.mkdir()
    state.mkdir(mode=0o700)
    target = dotfiles / "torchtui-history"
    target.write_bytes(b'{"t": 1, "src": "old = 1"}\n')
    link = state / "history"
    link.symlink_to(target)
    h = History(link, max_entries=3)
    assert h.entries == ["old = 1"] and h.warning is None
    for i in range(5):
        h.append(f"x = {i}")
    assert h.take_warning() is None
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert History(link, max_entries=3).entries[-3:] == ["x = 2", "x = 3", "x = 4"]
    assert b"x = 4" in target.read_bytes()


def test_a_history_that_is_a_link_to_what_is_not_the_users_regular_file_is_neither_read_nor_written(tmp_path):
    """Not a regular file of the user's at the link's end (a folder here; another user's file
    alike): the history is not read through it either, said once, and kept in memory."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "history"
    link.symlink_to(elsewhere)
    h = History(link)
    assert h.entries == [] and "symbolic link" in h.take_warning()
    h.append("a = 1")
    h.append("b = 2")
    assert h.take_warning() is None and h.entries == ["a = 1", "b = 2"]
    assert link.is_symlink() and list(elsewhere.iterdir()) == []


def test_a_history_linked_to_another_users_file_is_neither_read_nor_written(tmp_path, monkeypatch):
    target = tmp_path / "theirs"
    target.write_bytes(b'{"t": 1, "src": "theirs = 1"}\n')
    link = tmp_path / "history"
    link.symlink_to(target)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(target).st_uid + 1)  # the file is someone else's
    h = History(link)
    assert h.entries == [] and "symbolic link" in h.take_warning()
    h.append("mine = 2")
    assert h.take_warning() is None and target.read_bytes() == b'{"t": 1, "src": "theirs = 1"}\n'
