"""The real `torchtui` in a real terminal (tmux) at 80x24: a cell, a bad cell, an interrupt."""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    def __init__(self, command: str, env: dict) -> None:
        self.name = "torchtui-test-" + uuid.uuid4().hex[:8]
        flags = []
        for key, value in env.items():
            flags += ["-e", f"{key}={value}"]
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "80", "-y", "24", *flags, command],
                       check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True,
                              text=True).stdout

    def wait(self, text: str, timeout: float = 60) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text in self.screen():
                return True
            time.sleep(0.05)
        return False

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def test_real_terminal_session(tmp_path):
    exe = Path(sys.executable).with_name("torchtui")
    command = str(exe) if exe.exists() else f"{sys.executable} -m tui"
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PATH": os.environ.get("PATH", ""), "TERM": "xterm-256color"}
    term = Tmux(command, env)
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
