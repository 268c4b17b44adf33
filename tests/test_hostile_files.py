"""Files torchtui writes and reads, when what is at the path is hostile or odd: a FIFO, a device, a
socket, a symbolic link to something elsewhere, a full disk. Writes replace a regular file or
nothing; reads take regular files only, size-capped. Nothing here may block: every call that a
regression could block (opening a FIFO) runs in a thread with a deadline, so it fails instead."""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine import paths

DEADLINE_S = 30  # far longer than any of these calls takes; only a blocked one reaches it


def bounded(call, *args, **kwargs):
    """`call(*args, **kwargs)` in a daemon thread; its result, or its exception raised here; a call
    still running at the deadline fails the test (a FIFO opened without O_NONBLOCK blocks forever)."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = call(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(DEADLINE_S)
    if worker.is_alive():
        pytest.fail(f"{getattr(call, '__name__', call)} blocked (still running after {DEADLINE_S} s)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def release(fifo: Path) -> None:
    """Open `fifo` for reading and close it again: a writer a regression left blocked in open() gets
    going (and then fails), rather than holding its thread for the rest of the run."""
    try:
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    except OSError:
        pass


@pytest.fixture
def hostile(tmp_path):
    """Odd things at paths that torchtui may be told to write: name -> (path, check it is intact)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    precious = elsewhere / "precious.txt"
    precious.write_text("keep me")
    made: dict = {}
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    made["fifo"] = (fifo, lambda: stat.S_ISFIFO(os.lstat(fifo).st_mode))
    link = tmp_path / "link.py"
    link.symlink_to(precious)
    made["symlink"] = (link, lambda: os.path.islink(link) and precious.read_text() == "keep me")
    null_link = tmp_path / "null_link"
    null_link.symlink_to("/dev/null")
    made["symlink to /dev/null"] = (null_link, lambda: os.readlink(null_link) == "/dev/null")
    sock_path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    made["socket"] = (sock_path, lambda: stat.S_ISSOCK(os.lstat(sock_path).st_mode))
    device = tmp_path / "null"
    try:  # a device node of our own (root only): replacing it harms nothing, unlike /dev/null itself
        os.mknod(device, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        made["device"] = (device, lambda: stat.S_ISCHR(os.lstat(device).st_mode))
    except (OSError, AttributeError):
        pass
    try:
        yield made
    finally:
        release(fifo)
        server.close()


def _writers():
    """Every way the app or the CLI writes a file: (name, write(path))."""
    import torch

    from engine import exports
    from engine.kernel.live import Live
    from engine.training import make_config
    from tui.save import SessionCell, save, save_figure

    result = SimpleNamespace(loss_history=(1.0, 0.5), task="regression", metrics=None)  # what loss_csv reads
    cells = [SessionCell(1, "x = 1")]

    def live_export(path):
        live = Live(lambda *_, **__: None)
        live(loss=1.0)
        return live.export(str(path))

    return [
        ("write_private", lambda p: paths.write_private(p, "data")),
        ("loss csv", lambda p: exports.loss_csv(result, p)),
        ("state_dict", lambda p: exports.state_dict(torch.nn.Linear(1, 1), p)),
        ("script", lambda p: exports.script(make_config(), "cpu", p)),
        ("%save .py", lambda p: save(cells, p)),
        ("%save .png", lambda p: save_figure(b"\x89PNG", p)),
        ("live.export", live_export),
    ]


def test_every_writer_refuses_fifos_devices_sockets_and_links(hostile):
    from tui.save import SaveError

    for writer, write in _writers():
        for what, (path, intact) in hostile.items():
            with pytest.raises((OSError, SaveError)) as info:
                bounded(write, path)
            words = str(info.value)
            assert ("regular files" in words or "symbolic link" in words), (writer, what, words)
            assert "\n" not in words
            assert intact(), f"{writer} replaced the {what}"


def test_refusals_say_what_the_file_is_in_both_languages():
    from engine.i18n import text

    error = pytest.raises(paths.UnsafeFile, paths.check_replaceable, Path("/dev/null")).value
    assert error.strerror == "it is a character device, and torchtui writes only regular files: nothing was written"
    assert "字符设备" in error.said.words("zh") and "torchtui" in error.said.words("zh")
    assert isinstance(error, OSError) and error.filename == "/dev/null"
    for key in ("err.path.write_link", "err.save.write", "path.kind.fifo", "path.kind.socket"):
        assert text(key, "zh") != text(key, "en")


def test_written_files_are_private_and_replace_a_regular_file(tmp_path):
    from tui.save import SessionCell, save

    target = tmp_path / "session.py"
    target.write_text("old")
    os.chmod(target, 0o644)
    save([SessionCell(1, "x = 1")], target)
    assert "x = 1" in target.read_text() and stat.S_IMODE(os.stat(target).st_mode) == 0o600
    fresh = save([SessionCell(1, "y = 2")], tmp_path / "new.ipynb")
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o600
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_planted_temp_file_link_is_not_followed(tmp_path):
    """The temp file is created new (O_EXCL, O_NOFOLLOW): a link planted under the name a writer
    would pick is never written through."""
    precious = tmp_path / "precious"
    precious.write_text("keep me")
    for pid_part in (f"{os.getpid()}", f"{os.getpid()}-0"):
        (tmp_path / f".out.txt.{pid_part}.tmp").symlink_to(precious)
    paths.write_private(tmp_path / "out.txt", "new")
    assert precious.read_text() == "keep me" and (tmp_path / "out.txt").read_text() == "new"


@pytest.mark.slow
def test_the_cli_refuses_to_export_onto_a_fifo_in_one_line(tmp_path):
    import subprocess
    import sys

    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    try:
        out = subprocess.run([sys.executable, "-m", "tui", "train", "--headless", "--epochs", "1",
                              "--export-script", str(fifo)], capture_output=True, text=True, timeout=120)
    finally:
        release(fifo)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "named pipe" in lines[0] and "Traceback" not in out.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# --- reading state files: regular files only, size-capped, never a hang ------------------------

def _special(kind: str, path: Path) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")  # endless: a plain read() fills the memory
    else:  # "huge": a regular file far past any real one's size (sparse: no disk used)
        with open(path, "wb") as f:
            f.truncate(1 << 36)


@pytest.mark.parametrize("kind", ["fifo", "huge"])
def test_a_special_history_file_is_set_aside_and_a_new_one_begins(tmp_path, kind):
    from tui.history import History

    path = tmp_path / "history"
    _special(kind, path)
    try:
        history = bounded(History, path)
        warning = history.take_warning()
        assert warning and "set aside" in warning and "\n" not in warning
        assert not os.path.lexists(path)  # moved, never opened
        aside = [p for p in tmp_path.iterdir() if p.name.startswith("history.corrupt-")]
        assert len(aside) == 1
        bounded(history.append, "x = 1")
        assert history.take_warning() is None
        assert stat.S_ISREG(os.lstat(path).st_mode) and bounded(History, path).entries == ["x = 1"]
    finally:
        release(path)


@pytest.mark.parametrize("kind", ["fifo", "huge"])
def test_a_special_progress_file_is_set_aside_and_the_tour_starts_afresh(tmp_path, kind):
    from engine.tour import Progress

    path = tmp_path / "progress.json"
    _special(kind, path)
    try:
        progress = bounded(Progress, path)
        assert "set aside" in progress.warning and "\n" not in progress.warning
        assert progress.read == set() and not os.path.lexists(path)
        bounded(progress.mark_read, "install")
        assert Progress(path).read == {"install"}
    finally:
        release(path)


@pytest.mark.parametrize("kind", ["fifo", "huge"])
def test_a_special_config_file_gives_defaults_and_one_warning(tmp_path, kind):
    from tui import config

    path = tmp_path / "config.toml"
    _special(kind, path)
    try:
        loaded = bounded(config.load, path)
        assert loaded.device == config.Config().device and len(loaded.warnings) == 1
        words = loaded.warnings[0].words()
        assert "using defaults" in words and "\n" not in words and loaded.warnings[0].words("zh") != words
        assert os.path.lexists(path)  # the user's own file: left where it is
    finally:
        release(path)


def test_a_config_file_linked_from_elsewhere_is_still_read(tmp_path):
    from tui import config

    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_text('device = "cpu"\n')
    (tmp_path / "config.toml").symlink_to(real)
    assert config.load(tmp_path / "config.toml").device == "cpu"


def test_history_appends_through_a_link_only_to_the_users_own_file_nor_blocks_on_its_lock(tmp_path):
    from tui.history import History

    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text('{"t": 0, "src": "old = 1"}\n')
    link = tmp_path / "history"
    link.symlink_to(elsewhere)
    history = bounded(History, link)
    assert history.entries == ["old = 1"]  # read through the link (a dotfiles checkout's)
    bounded(history.append, "new = 2")
    assert history.take_warning() is None and os.path.islink(link)
    assert bounded(History, link).entries == ["old = 1", "new = 2"]  # and written through it
    (tmp_path / "dev-null-history").symlink_to("/dev/null")  # no regular file of the user's
    refused = bounded(History, tmp_path / "dev-null-history")
    assert "symbolic link" in refused.take_warning() and refused.entries == []
    bounded(refused.append, "x = 1")
    assert refused.take_warning() is None and os.readlink(tmp_path / "dev-null-history") == "/dev/null"
    fifo_lock = tmp_path / "h2.lock"
    os.mkfifo(fifo_lock)
    try:
        other = History(tmp_path / "h2")
        bounded(other.append, "y = 1")
        assert "named pipe" in other.take_warning() and other.entries == ["y = 1"]
    finally:
        release(fifo_lock)


def test_reading_a_link_to_dev_zero_is_refused_before_reading(tmp_path):
    link = tmp_path / "state"
    _special("zero", link)
    with pytest.raises(paths.UnsafeFile) as info:
        bounded(paths.read_regular, link, 1 << 20)
    assert info.value.strerror == "it is a character device, not a regular file, and was not read"


ZERO_CHECK = """
import json, sys
from pathlib import Path
from engine.tour import Progress
from tui import config
from tui.history import History

folder = Path(sys.argv[1])
history = History(folder / "history")
progress = Progress(folder / "progress.json")
loaded = config.load(folder / "config.toml")
print(json.dumps([history.take_warning(), progress.warning, [w.words() for w in loaded.warnings]]))
"""


@pytest.mark.slow
def test_state_files_linked_to_dev_zero_are_refused(tmp_path):
    """In a process of its own, with its memory capped: reading /dev/zero to the end (what the
    start did) would otherwise take all the memory of the machine running the tests."""
    import json
    import resource
    import subprocess
    import sys

    for name in ("history", "progress.json", "config.toml"):
        _special("zero", tmp_path / name)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    out = subprocess.run([sys.executable, "-c", ZERO_CHECK, str(tmp_path)], capture_output=True, text=True,
                         timeout=60, preexec_fn=cap, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    history, progress, config_words = json.loads(out.stdout)
    # a history linked to something that is not the user's own regular file is neither read nor
    # written (the link is left as it is, the session's cells kept in memory); progress is set aside
    assert "not saved" in history and "set aside" in progress
    assert len(config_words) == 1 and "character device" in config_words[0]
    assert os.path.islink(tmp_path / "history") and os.path.islink(tmp_path / "config.toml")


# --- a full disk cutting an append short ----------------------------------------------------

def test_a_short_history_append_is_taken_back_and_said_once(tmp_path, monkeypatch):
    from tui.history import History

    path = tmp_path / "history"
    history = History(path)
    history.append("kept = 1")
    real_write = os.write

    def half(fd, data):  # what a nearly full disk does: a part of it, and no error
        return real_write(fd, bytes(data)[: max(1, len(data) // 2)])

    monkeypatch.setattr(os, "write", half)
    history.append("cut = 2")
    warning = history.take_warning()
    assert warning and "No space left" in warning and "\n" not in warning
    history.append("later = 3")  # in memory only now: not another half record, not another warning
    assert history.take_warning() is None and history.entries == ["kept = 1", "cut = 2", "later = 3"]
    monkeypatch.setattr(os, "write", real_write)
    assert path.read_bytes().endswith(b"\n") and path.read_text().count("\n") == 1  # the half record is gone
    for _start in range(3):  # starts later, after more cells: never set aside as corrupt
        again = History(path)
        assert again.take_warning() is None
        again.append(f"start {_start}")
    assert History(path).entries == ["kept = 1", "start 0", "start 1", "start 2"]
