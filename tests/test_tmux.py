"""The real `torchtui` in a real terminal (tmux) at 80x24: a cell, a bad cell, an interrupt."""

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from bench.term import Terminal

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def test_real_terminal_session(tmp_path):
    exe = Path(sys.executable).with_name("torchtui")
    command = str(exe) if exe.exists() else f"{sys.executable} -m tui"
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PATH": os.environ.get("PATH", ""), "TERM": "xterm-256color"}
    term = Terminal(command, 80, 24, env)
    try:
        assert term.wait("Playground", 30), term.screen()
        assert term.wait("loaded", 60), term.screen()
        term.type("torch.ones(2) * 3")
        term.keys("Enter")
        assert term.wait("tensor([3., 3.])"), term.screen()
        term.type("torch.ones(2) @ torch.ones(3)")
        term.keys("Enter")
        assert term.wait("RuntimeError"), term.screen()
        term.type("while True: pass")
        term.keys("Enter")
        assert term.wait("running [3]"), term.screen()
        term.keys("C-c")
        assert term.wait("KeyboardInterrupt"), term.screen()
        term.type("41 + 1")
        term.keys("Enter")
        assert term.wait("Out[4]: 42"), term.screen()
        # a subprocess writing straight to the terminal lands in the log, not over the screen
        term.type("import os; os.system('echo FROM-SHELL')")
        term.keys("Enter")
        assert term.wait("FROM-SHELL"), term.screen()
        assert term.wait("written straight to the terminal"), term.screen()
        assert term.screen().splitlines()[0].startswith("torchtui · Playground")
        term.keys("C-q")
        end = time.monotonic() + 10
        while time.monotonic() < end and "Playground" in term.screen():
            time.sleep(0.1)
        assert "Playground" not in term.screen()
    finally:
        term.close()
    history = (tmp_path / "state" / "torchtui" / "history").read_text()
    assert "while True: pass" in history
