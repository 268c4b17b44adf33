"""F2 Playground: the session's record of cells across restarts and deaths, cells that wait for a
kernel, output that comes after its cell, and typing that reaches the editor.

The record's order across restarts and deaths, and cells numbered again by a restart, are the
screen's to keep: they run on the fake kernel. A thread's print after its cell is a kernel
process's (killed and dead kernels' sockets: tests/test_kernel.py, tests/test_screen_playground.py)."""

from __future__ import annotations

import pytest

from tests.helpers import log_text, running, static_text, type_cell, wait_for
from tui.app import make_app
from tui.kernel import events as ev
from tui.kernel.fake import FakeKernel

SLOW = pytest.mark.slow  # a kernel process

SLEEP_IGNORING_CTRL_C = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"
DIES = "import os, time; time.sleep(2); os._exit(9)"


async def test_save_keeps_every_cell_in_order_across_f9_a_kill_restart_and_a_death(tmp_path):
    """The session's record is the screen's: F9, a second ctrl+c that kills a cell deaf to the
    first, and a kernel that dies with cells queued behind its cell (they run on the next one)
    leave every cell in the order it was typed. (The kernel processes themselves, restarted and
    killed, and their sockets: tests/test_screen_playground.py.)"""
    import nbformat

    kernel = FakeKernel()

    async def deaf(run) -> None:  # only a restart stops it
        run.ignore_interrupts()
        await run.wait()

    async def dies(run) -> None:
        kernel.die("the kernel process was killed (signal 9)")
        await run.wait()

    kernel.scripts[SLEEP_IGNORING_CTRL_C] = deaf
    kernel.scripts[DIES] = dies
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: kernel.ready, 60)
        status = lambda: static_text(screen.query_one("#run-status"))  # noqa: E731
        ran = lambda n: lambda: len(screen.session_cells) >= n  # noqa: E731
        for source in ("a = 1", "b = 2", "c = 3"):
            await type_cell(pilot, source)
        assert await wait_for(pilot, ran(3), 30)
        await pilot.press("f9")
        assert await wait_for(pilot, lambda: "fresh kernel is ready" in log_text(app), 60)
        for source in ("d = 4", "e = 5", SLEEP_IGNORING_CTRL_C):
            screen.run_source(source)  # (as Enter sends it: typing is the first cells')
        assert await wait_for(pilot, lambda: kernel.running is not None and "sleep" in kernel.running.source, 30)
        await pilot.press("ctrl+c")
        assert await wait_for(pilot, lambda: "ctrl+c again" in status(), 15)
        await pilot.press("ctrl+c")  # kills it: a fresh kernel
        for source in ("f = 6", "g = 7", "h = 8"):
            screen.run_source(source)
        assert await wait_for(pilot, lambda: log_text(app).count("fresh kernel is ready") == 2, 60)
        assert await wait_for(pilot, ran(9), 30), list(screen.session_cells.values())
        # a death with cells queued behind the cell that dies: they run on the next kernel
        kernel.hold()
        screen.run_source(DIES)
        assert await wait_for(pilot, lambda: kernel.running is not None, 30)
        screen.run_source("q = 10")
        screen.run_source("r = q + 1")
        kernel.release()
        banner = screen.query_one("#kernel-banner")
        assert await wait_for(pilot, lambda: banner.has_class("-shown"), 30)
        assert "this cell was running when the kernel died" in log_text(app)
        assert log_text(app).count("was running when the kernel died") == 1  # the dying cell only
        assert "Cells typed meanwhile: 2" in log_text(app)
        await pilot.press("f9")
        assert await wait_for(pilot, lambda: "Running the cells that waited, in order: 2" in log_text(app), 60)
        await type_cell(pilot, "r")
        assert await wait_for(pilot, lambda: "Out[3]: 11" in log_text(app), 30), log_text(app)[-600:]
        screen.run_source(f"%save {tmp_path}/s.py")
        screen.run_source(f"%save {tmp_path}/s.ipynb")
        assert await wait_for(pilot, lambda: (tmp_path / "s.ipynb").exists(), 10)
    expected = ["a = 1", "b = 2", "c = 3", "d = 4", "e = 5", SLEEP_IGNORING_CTRL_C, "f = 6", "g = 7", "h = 8",
                DIES, "q = 10", "r = q + 1", "r"]
    notebook = nbformat.read(tmp_path / "s.ipynb", as_version=4)
    assert [cell.source for cell in notebook.cells] == expected


@SLOW  # a thread in the kernel printing after its cell was answered
async def test_output_of_a_thread_after_its_cell_is_shown_and_kept_and_escape_keeps_typing(tmp_path):
    import nbformat

    app = make_app()
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        await type_cell(pilot, "import threading, time")
        await type_cell(pilot, "threading.Thread(target=lambda: (time.sleep(0.5), print('late'))).start()")
        assert await wait_for(pilot, lambda: "\nlate" in log_text(app), 30), log_text(app)[-600:]
        # A thread's print goes out under the kernel's latest cell (threads do not carry the cell
        # that started them); after a newer cell, output said to be an older one's is named
        cells = list(screen.session_cells)
        screen.handle_kernel_event(ev.CellStream(cells[1], "stdout", "again\n", late=True))
        await type_cell(pilot, "1 + 1")
        assert await wait_for(pilot, lambda: "Out[3]: 2" in log_text(app), 30)
        screen.handle_kernel_event(ev.CellStream(cells[1], "stdout", "and again\n", late=True))
        log = log_text(app)
        assert log.index("late") < log.index("again") < log.index("Out[3]: 2") < log.index("In [2], later") \
            < log.index("and again"), log[-800:]
        assert log.count("In [2], later") == 1
        # and the cell that runs, printing on after that, is named again above what it prints next
        screen.handle_kernel_event(ev.CellStream(list(screen.session_cells)[2], "stdout", "mine again\n"))
        log = log_text(app)
        assert log.index("and again") < log.index("In [3], continued") < log.index("mine again")
        # Escape leaves the editor; what is typed next still goes to it
        await pilot.press("escape")
        assert screen.focused is not screen.editor
        await type_cell(pilot, "2 + 3")
        assert await wait_for(pilot, lambda: "Out[4]: 5" in log_text(app), 30), log_text(app)[-600:]
        screen.run_source(f"%save {tmp_path}/s.ipynb")
        assert await wait_for(pilot, lambda: (tmp_path / "s.ipynb").exists(), 10)
    cells = nbformat.read(tmp_path / "s.ipynb", as_version=4).cells
    assert [output.text for output in cells[1].outputs if output.output_type == "stream"] == ["late\nagain\nand again\n"]


async def test_f7_copies_the_cell_on_show_when_a_restart_numbered_another_cell_the_same():
    app = make_app(kernel=FakeKernel())
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # what OSC 52 would carry to the terminal
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        await type_cell(pilot, "old = 1")
        assert await wait_for(pilot, lambda: len(screen.session_cells) == 1, 30)
        await pilot.press("f9")
        assert await wait_for(pilot, lambda: "fresh kernel is ready" in log_text(app), 60)
        screen.run_source("new = 2")
        screen.run_source("for k in range(40): print('line', k)")
        assert await wait_for(pilot, lambda: "line 39" in log_text(app), 30)
        await pilot.press("ctrl+up")  # to the top of In [2]
        await pilot.press("ctrl+up")  # to the top of the new In [1]
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "CopyPicker", 5)
        await pilot.press("enter")  # the first choice: the cell's input
        assert copied == ["new = 2"]
