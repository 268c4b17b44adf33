"""Playground responsiveness, each figure beside its baseline in the same run.

1. Keystroke echo in tmux while a cell runs (`time.sleep`, a torch loop), against a bare Textual
   TextArea with nothing running. Target: < 50 ms.
2. `torch.randn(10000, 10000)` as the last expression: from Enter to the value and summary on
   screen, against the same work (randn, repr, summary) in a plain Python process. Target: < 0.5 s.
3. Typing after 5,000 cells of output against typing into an empty log (in-process, Pilot).

    python bench/repl_speed.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from term import Terminal, median, require_tmux

HERE = Path(__file__).resolve().parent
KEYS = 24


def echo_times(term: Terminal, prefix: str) -> list[float]:
    """Type one character at a time; seconds until each shows on screen."""
    times = []
    term.type(prefix)
    term.wait(prefix, 5)
    typed = prefix
    for ch in string.ascii_lowercase[:KEYS]:
        typed += ch
        seconds = term.time_until(typed, lambda c=ch: term.type(c), timeout=5)
        times.append(seconds if seconds is not None else 5.0)
    return times


def keystroke_echo(exe: str, env: dict) -> None:
    with Terminal(f"{sys.executable} {HERE / 'baseline_apps.py'} editor", 80, 24, env) as term:
        term.wait("EDITOR-READY", 30)
        time.sleep(0.5)
        base = echo_times(term, "q=")
    print(f"bare TextArea, idle:          median {median(base) * 1000:5.1f} ms  max {max(base) * 1000:5.1f} ms")
    for label, cell in (("time.sleep(30)", "import time; time.sleep(30)"),
                        ("a torch loop", "a = torch.randn(300, 300)\nwhile True: a = torch.tanh(a @ a)")):
        with Terminal(exe, 80, 24, env) as term:
            term.wait("loaded", 60)
            for line in cell.split("\n"):
                term.type(line)
                term.keys("Enter")
            term.keys("Enter") if "\n" in cell else None
            term.wait("running [1]", 10)
            time.sleep(0.5)
            got = echo_times(term, "q=")
            term.keys("C-c")
        print(f"torchtui, while {label:<14} median {median(got) * 1000:5.1f} ms  max {max(got) * 1000:5.1f} ms  "
              f"(median {median(got) / median(base):.1f}x bare; target < 50 ms)")


def big_tensor(exe: str, env: dict) -> None:
    # The plain baseline keeps the previous value alive between runs, as the REPL's `_` does.
    code = (f"import time, torch, sys; sys.path.insert(0, {str(HERE.parent)!r})\n"
            "from engine.repl.display import describe\n"
            "last = None\n"
            "for _ in range(3):\n"
            "    t = time.perf_counter(); v = torch.randn(10000, 10000); describe(v)\n"
            "    print(time.perf_counter() - t); last = v; del v")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    plain = [float(line) for line in out.split()]
    shown = []
    with Terminal(exe, 80, 24, env) as term:
        term.wait("loaded", 60)
        for i in range(3):
            term.type("torch.randn(10000, 10000)")
            seconds = term.time_until(f"Out[{i + 1}]", lambda: term.keys("Enter"), timeout=30)
            term.wait("shape (10000, 10000)", 30)
            shown.append(seconds)
            term.keys("C-l")
            time.sleep(0.3)
    for run, (p, s) in enumerate(zip(plain, shown, strict=True), 1):
        print(f"randn(10000, 10000), run {run}: plain Python (randn + repr + summary) {p:.3f} s; "
              f"torchtui, Enter to value on screen {s:.3f} s ({s / p:.2f}x)")
    print(f"median: plain {median(plain):.3f} s, torchtui {median(shown):.3f} s (target < 0.5 s)")


async def typing_time(app, pilot, text: str) -> float:
    start = time.perf_counter()
    await pilot.press(*text)
    await pilot.pause()
    return time.perf_counter() - start


async def long_log() -> tuple[float, float]:
    from tui.app import make_app

    text = "x = torch.ones(3) * 2 + 1"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        while not (app.screen.ready and app.kernel.ready.is_set()):
            await pilot.pause(0.05)
        empty = min([await typing_time(app, pilot, text) for _ in range(3)])
        app.screen.editor.set_source("")
        for i in range(5000):
            app.screen.run_source(f"{i} * 2")
        while app.kernel.pending or app.kernel.running is not None:
            await pilot.pause(0.1)
        await pilot.pause(0.5)
        full = min([await typing_time(app, pilot, text) for _ in range(3)])
    return empty, full


def main() -> None:
    require_tmux()
    state = tempfile.mkdtemp()
    env = {"XDG_STATE_HOME": state, "XDG_CONFIG_HOME": state, "PATH": os.environ.get("PATH", "")}
    exe = shutil.which("torchtui") or f"{sys.executable} -m tui"
    keystroke_echo(exe, env)
    big_tensor(exe, env)
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp()
    empty, full = asyncio.run(long_log())
    print(f"typing 25 keys, empty log: {empty * 1000:.0f} ms; after 5,000 cells: {full * 1000:.0f} ms "
          f"({full / empty:.2f}x)")


if __name__ == "__main__":
    main()
