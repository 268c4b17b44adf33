"""Playground responsiveness in tmux, each figure beside its baseline in the same run.

1. A trivial cell (`1 + 1`): from Enter to `Out[n]: 2` on screen, against a bare Textual app that
   writes the same line to a RichLog on Enter with no kernel (the floor for a log line to show).
   Target: median <= 30 ms.
2. Keystroke echo in torchtui idle, while a cell holds the kernel's GIL in one C call
   (`sum(range(10**10))`), and in the Training form while a run with live plots goes. Target:
   each <= 1.3x idle echo.
3. `torch.randn(10000, 10000)` as the last expression: Enter to value and summary on screen,
   against the same work (randn, repr, summary) in a plain Python process.
4. Typing after 5,000 cells of output against typing into an empty log (in-process, Pilot).

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
KEYS = 20


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


def ms(values: list[float]) -> str:
    return f"median {median(values) * 1000:5.1f} ms  max {max(values) * 1000:6.1f} ms"


def trivial_cells(term: Terminal, clear: bool) -> list[float]:
    times = []
    for n in range(1, 16):
        term.type("1 + 1")
        term.wait("1 + 1", 5)
        times.append(term.time_until(f"Out[{n}]: 2", lambda n=n: term.keys("Enter"), timeout=10) or 10.0)
        time.sleep(0.2)
        if clear and n % 5 == 0:
            term.keys("C-l")
            time.sleep(0.2)
    return times


def trivial_cells_and_echo(exe: str, env: dict) -> None:
    with Terminal(f"{sys.executable} {HERE / 'baseline_apps.py'} repl", 80, 24, env) as term:
        term.wait("REPL-READY", 30)
        time.sleep(0.5)
        bare_cells = trivial_cells(term, clear=False)
    with Terminal(f"{sys.executable} {HERE / 'baseline_apps.py'} editor", 80, 24, env) as term:
        term.wait("EDITOR-READY", 30)
        time.sleep(0.5)
        bare = echo_times(term, "q=")
    cells, idle, gil = [], [], []
    with Terminal(exe, 80, 24, env) as term:
        term.wait("loaded", 60)
        time.sleep(0.5)
        cells = trivial_cells(term, clear=True)
        idle = echo_times(term, "q=")
        term.keys("C-a", "C-k")
        term.type("sum(range(10**10))")
        term.keys("Enter")
        term.wait("running [16]", 10)
        time.sleep(0.5)
        gil = echo_times(term, "q=")
    print(f"bare Textual log app, Enter to Out      {ms(bare_cells)}")
    print(f"torchtui, 1 + 1: Enter to Out on screen {ms(cells)}  ({median(cells) / median(bare_cells):.2f}x bare; "
          "target: median <= 30 ms)")
    print(f"bare TextArea, keystroke echo          {ms(bare)}")
    print(f"torchtui, keystroke echo, idle          {ms(idle)}")
    print(f"torchtui, echo while sum(range(10**10)) {ms(gil)}  ({median(gil) / median(idle):.2f}x idle; "
          "target <= 1.3x)")
    with Terminal(f"{exe} train --samples 200000 --epochs 100000 --device cpu", 80, 24, env) as term:
        term.wait("Training", 30)
        term.wait("torch 2", 60)
        time.sleep(0.5)
        form_idle = echo_times(term, "")  # typed after the samples field's 200000
        for _ in range(KEYS):
            term.keys("BSpace")
        time.sleep(0.3)
        term.keys("C-r")
        term.wait("epoch 2/", 60)
        term.keys("C-b")  # at 80x24 a run folds the form: bring it back to type into it
        term.wait("samples", 10)
        time.sleep(0.3)
        running = echo_times(term, "")
        term.keys("F7")
    print(f"Training form, keystroke echo, idle     {ms(form_idle)}")
    print(f"Training form, echo while a run goes    {ms(running)}  ({median(running) / median(form_idle):.2f}x "
          "idle; target <= 1.3x)")


def big_tensor(exe: str, env: dict) -> None:
    # The plain baseline keeps the previous value alive between runs, as the kernel's `_` does.
    code = (f"import time, torch, sys; sys.path.insert(0, {str(HERE.parent)!r})\n"
            "from engine.repl.display import summary_of\n"
            "last = None\n"
            "for _ in range(3):\n"
            "    t = time.perf_counter(); v = torch.randn(10000, 10000); repr(v); summary_of(v)\n"
            "    print(time.perf_counter() - t); last = v; del v")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    plain = [float(line) for line in out.split()]
    shown = []
    with Terminal(exe, 80, 24, env) as term:
        term.wait("loaded", 60)
        for _ in range(3):
            term.type("torch.randn(10000, 10000)")
            seconds = term.time_until("shape (10000, 10000)", lambda: term.keys("Enter"), timeout=30)
            shown.append(seconds)
            term.keys("C-l")
            time.sleep(0.3)
    for run, (p, s) in enumerate(zip(plain, shown, strict=True), 1):
        print(f"randn(10000, 10000), run {run}: plain Python (randn + repr + summary) {p:.3f} s; "
              f"torchtui, Enter to value and summary on screen {s:.3f} s ({s / p:.2f}x)")


async def typing_time(pilot, text: str) -> float:
    start = time.perf_counter()
    await pilot.press(*text)
    await pilot.pause()
    return time.perf_counter() - start


async def long_log() -> tuple[float, float]:
    from tui.app import make_app

    text = "x = torch.ones(3) * 2 + 1"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        while not (app.screen.ready and app.kernel.ready):
            await pilot.pause(0.05)
        empty = min([await typing_time(pilot, text) for _ in range(3)])
        app.screen.editor.set_source("")
        for i in range(5000):
            app.kernel.execute(f"{i} * 2")
        while app.kernel.cells:
            await pilot.pause(0.1)
        await pilot.pause(0.5)
        full = min([await typing_time(pilot, text) for _ in range(3)])
    return empty, full


def main() -> None:
    require_tmux()
    state = tempfile.mkdtemp()
    env = {"XDG_STATE_HOME": state, "XDG_CONFIG_HOME": state, "PATH": os.environ.get("PATH", "")}
    exe = shutil.which("torchtui") or f"{sys.executable} -m tui"
    trivial_cells_and_echo(exe, env)
    big_tensor(exe, env)
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp()
    empty, full = asyncio.run(long_log())
    print(f"typing 25 keys, empty log: {empty * 1000:.0f} ms; after 5,000 cells: {full * 1000:.0f} ms "
          f"({full / empty:.2f}x)")


if __name__ == "__main__":
    main()
