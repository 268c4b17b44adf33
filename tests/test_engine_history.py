"""engine/repl/history.py: the Playground's history survives kill -9, torn lines and its bound."""

import os
import signal
import subprocess
import sys
import textwrap

from engine.repl.history import History


def test_history_survives_kill(tmp_path):
    path = tmp_path / "history"
    script = textwrap.dedent(f"""
        import os, time
        from engine.repl.history import History
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
