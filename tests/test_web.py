"""`textual serve "torchtui"`: the app in a browser. The server runs the app with Textual's web
driver, whose stdout is a stream of framed packets (a type byte, a 4-byte length, the payload) and
whose stdin takes the same frames. Anything else written to that stdout (a cell's `os.system`
output, say) breaks the framing and the page freezes. This test speaks the server's side of the
protocol to the real `torchtui` command."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the app served to a browser

ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]")


def frame(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack(">I", len(payload)) + payload


class WebApp:
    """The app as `textual serve` runs it: packets in, packets out, checked as they come."""

    def __init__(self, tmp_path: Path) -> None:
        exe = Path(sys.executable).with_name("torchtui")
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "tui"]
        env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
               "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
               "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver", "TEXTUAL_COLOR_SYSTEM": "truecolor",
               "TERM_PROGRAM": "textual", "COLUMNS": "100", "ROWS": "30"}
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.screen = ""  # everything drawn so far, escape codes removed
        self.bad: list[bytes] = []  # bytes that were not a well-formed packet
        self.metas: list[dict] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        first = out.readline()
        if first != b"__GANGLION__\n":
            self.bad.append(first)
        while True:
            head = out.read(5)
            if len(head) < 5:
                return
            kind, size = head[:1], struct.unpack(">I", head[1:])[0]
            if kind not in (b"D", b"M", b"P") or size > 50_000_000:
                self.bad.append(head + out.read(200))
                return
            payload = out.read(size)
            with self.lock:
                if kind == b"D":
                    self.screen += ESCAPES.sub("", payload.decode("utf-8", "replace"))
                elif kind == b"M":
                    self.metas.append(json.loads(payload))

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(frame(b"D", text.encode()))
        self.proc.stdin.flush()

    def resize(self, width: int, height: int) -> None:
        assert self.proc.stdin is not None
        meta = json.dumps({"type": "resize", "width": width, "height": height}).encode()
        self.proc.stdin.write(frame(b"M", meta))
        self.proc.stdin.flush()

    def wait_for(self, text: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if text in self.screen:
                    return True
            if self.bad or self.proc.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def close(self) -> str:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(frame(b"M", json.dumps({"type": "quit"}).encode()))
            self.proc.stdin.flush()
            self.proc.wait(20)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(5)
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode("utf-8", "replace")


def test_a_shell_command_in_a_cell_does_not_break_the_browser_session(tmp_path):
    app = WebApp(tmp_path)
    try:
        app.resize(100, 30)
        assert app.wait_for("ready", 90), (app.bad, app.screen[-2000:])
        # (the shell computes what is printed: the typed line, drawn as it is typed, does not hold it)
        app.send("import os; status = os.system('echo hi-$((6*7)); echo oops-$((2+3)) >&2')\r")
        assert app.wait_for("hi-42", 30), (app.bad, app.screen[-2000:])
        assert app.wait_for("oops-5", 30), (app.bad, app.screen[-2000:])
        app.send("6 * 7000 + status + 1\r")  # the session goes on: keys in, output drawn
        assert app.wait_for("42001", 30), (app.bad, app.screen[-2000:])
        assert not app.bad
    finally:
        stderr = app.close()
    assert "Traceback" not in stderr, stderr
