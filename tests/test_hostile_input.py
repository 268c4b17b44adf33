"""Input a learner did not mean, or a terminal did not mean to send: a stray byte that is not
UTF-8, a recursion with the limit raised to 10**5, ctrl+c in a DataLoader loop, `sys.stdout = None`.
The app stays up and answers, and says in one sentence what happened."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.term import Terminal

SLOW = pytest.mark.slow  # a kernel process, or the app in tmux


def _start_app(tmp_path) -> Terminal:
    exe = Path(sys.executable).with_name("torchtui")
    command = str(exe) if exe.exists() else f"{sys.executable} -m tui"
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PATH": os.environ.get("PATH", ""), "TERM": "xterm-256color"}
    return Terminal(command, 80, 24, env)


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


@SLOW
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("byte", ["e9", "ff"])
def test_a_byte_that_is_not_utf8_is_dropped_and_keys_keep_working(tmp_path, byte):
    """A stray byte (a serial console, a bad paste, a mis-set locale) killed Textual's input
    thread with a UnicodeDecodeError: keys stopped working and the app then exited."""
    term = _start_app(tmp_path)
    try:
        assert term.wait("Playground", 30), term.screen()
        assert term.wait("loaded", 60), term.screen()
        app = term.pid()
        subprocess.run(["tmux", "send-keys", "-t", term.name, "-H", byte], check=True)
        # (e9 starts a three-byte character: it is known to be stray once the next key comes)
        term.type("1 + 1")
        assert term.wait("UTF-8", 20), term.screen()  # said, in a notification
        term.keys("Enter")
        assert term.wait("Out[1]: 2", 30), term.screen()
        assert "Traceback" not in term.screen() and "\ufffd" not in term.screen()
        assert _alive(app)
        term.type("2 + 3")
        term.keys("Enter")
        assert term.wait("Out[2]: 5", 30), term.screen()
    finally:
        subprocess.run(["tmux", "send-keys", "-t", term.name, "C-q"], capture_output=True)
        end = time.monotonic() + 10
        while time.monotonic() < end and "Playground" in term.screen():
            time.sleep(0.1)
        term.close()
    history = (tmp_path / "state" / "torchtui" / "history").read_text()
    assert "1 + 1" in history and "2 + 3" in history
