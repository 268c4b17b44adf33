"""F2 Playground: cells, values, errors, history, completion, interrupt, input(), pdb, output, figures and live plots.

What the screen does with what a kernel sends runs on a fake kernel in this process (the engine's
summary line, variables, live() and request handlers behind it where the screen shows them); what
only a kernel process does (pdb, a real interrupt or kill, %run, %load, figures, the shell reader
under hundreds of replies) is marked slow and runs on one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.protocol import LiveSeries
from tests.engine_in_process import engine_kernel, engine_live, send_variables, serve_engine
from tests.helpers import log_text, running, static_text, type_cell, wait_for
from tui.app import make_app
from tui.i18n import t
from tui.kernel.fake import CellRun, FakeKernel

SLOW = pytest.mark.slow  # a kernel process


async def asked(pilot, app) -> bool:
    return await wait_for(pilot, lambda: app.screen.stdin.shown, 30)


STEPPED_LOOP = """loss = 8.0
for step in range(3):
    if step == 0:
        breakpoint()
    loss = loss / 2
print('final', loss)"""


# The seed's last program, its way: a loss curve and the fit side by side, Chinese titles, SimHei.
SEED_PROGRAM = (Path(__file__).parent / "programs" / "seed_linear_regression_plot.py").read_text()


async def test_playground_runs_cells_and_shows_values_errors_and_variables():
    kernel = engine_kernel()
    send_variables(kernel)
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        await type_cell(pilot, "x = torch.arange(6.).reshape(2, 3)")
        await type_cell(pilot, "x.sum()")
        assert await wait_for(pilot, lambda: "Out[2]: tensor(15.)" in log_text(app), 60)
        assert "shape () · float32 · cpu" in log_text(app)
        await type_cell(pilot, "1/0")
        assert await wait_for(pilot, lambda: "ZeroDivisionError" in log_text(app))
        table = app.screen.query_one("#vars")
        assert await wait_for(pilot, lambda: table.row_count == 1)
        assert [str(c) for c in table.get_row_at(0)][:2] == ["x", "(2, 3)"]
        history = (app.history.path).read_text().splitlines()
        assert [json.loads(line)["src"] for line in history] == ["x = torch.arange(6.).reshape(2, 3)", "x.sum()", "1/0"]
        assert os.stat(app.history.path).st_mode & 0o777 == 0o600


async def test_playground_multiline_history_and_completion():
    kernel = engine_kernel()
    serve_engine(kernel)  # the signature hint is the engine's answer
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        editor = app.screen.editor
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        await pilot.press(*"for i in range(2):")
        await pilot.press("enter")
        assert editor.text == "for i in range(2):\n    "  # needs more: a newline with indentation
        await pilot.press(*"print(i*7)")
        await pilot.press("enter", "enter")
        assert await wait_for(pilot, lambda: "7" in log_text(app).split("In [1]")[-1])
        await pilot.press("up")
        assert editor.text == "for i in range(2):\n    print(i*7)"
        await pilot.press("down")
        assert editor.text == ""
        await pilot.press(*"torch.zeros_l")
        await pilot.press("tab")
        assert editor.text == "torch.zeros_like"
        editor.set_source("")
        await pilot.press(*"torch.ze")
        await pilot.press("tab")
        assert editor.text == "torch.zero"
        assert app.screen.completions.is_open
        await pilot.press("down", "enter")
        assert editor.text == "torch.zeros"
        editor.set_source("")
        await pilot.press(*"torch.cat(")
        hint = app.screen.query_one("#signature")
        assert await wait_for(pilot, lambda: hint.has_class("-shown"), 10)
        assert "dim=0" in static_text(hint)
        await pilot.press(")")
        assert not hint.has_class("-shown")
        await pilot.press("backspace", *"[torch.ones(1)], ")
        await pilot.press("enter")  # submitted before the answer came: no hint is left behind
        assert await wait_for(pilot, lambda: not any(w.name == "Signature" and not w.is_finished
                                                     for w in app.workers), 10)  # the answer came
        await pilot.pause()  # (and was handled)
        assert not hint.has_class("-shown")


async def test_playground_interrupt_keeps_namespace_and_queue_is_visible():
    kernel = FakeKernel()
    kernel.scripts["import time; time.sleep(30)"] = lambda run: run.wait()  # runs on until ctrl+c
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        await type_cell(pilot, "keep = 5")
        await type_cell(pilot, "import time; time.sleep(30)")
        assert await wait_for(pilot, lambda: app.kernel.running is not None)
        await type_cell(pilot, "keep + 1")
        assert await wait_for(pilot, lambda: "1 queued" in static_text(app.screen.query_one("#run-status")))
        await pilot.press("ctrl+c")
        assert await wait_for(pilot, lambda: "KeyboardInterrupt" in log_text(app), 10)
        assert await wait_for(pilot, lambda: "Out[3]: 6" in log_text(app), 10), log_text(app)


@SLOW  # ipykernel's own SIGINT handler, put back for each cell, and a kernel process killed
async def test_a_cell_that_ignores_ctrl_c_is_killed_by_a_second_one(monkeypatch):
    """...by a fresh kernel, and the killed one's sockets go with it."""
    import shutil
    import tempfile

    runtime = Path(tempfile.mkdtemp(prefix="tt-"))  # short: ipc socket paths are limited in length
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    app = make_app()
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        # ignored in an earlier cell: ipykernel puts its own handler back for each cell
        await type_cell(pilot, "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN)")
        await type_cell(pilot, "while True: pass")
        assert await wait_for(pilot, lambda: app.kernel.running is not None)
        await pilot.press("ctrl+c")
        assert await wait_for(pilot, lambda: "KeyboardInterrupt" in log_text(app), 10)
        # ignored by the running cell itself: only killing the kernel stops it
        await type_cell(pilot, "signal.signal(signal.SIGINT, signal.SIG_IGN); exec('while True: pass')")
        assert await wait_for(pilot, lambda: app.kernel.running is not None)
        await pilot.press("ctrl+c")
        status = lambda: static_text(app.screen.query_one("#run-status"))  # noqa: E731
        assert await wait_for(pilot, lambda: "ctrl+c again" in status(), 10)
        await pilot.press("ctrl+c")
        assert await wait_for(pilot, lambda: "fresh kernel is ready" in log_text(app), 60)
        await type_cell(pilot, "40 + 2")
        assert await wait_for(pilot, lambda: "Out[1]: 42" in log_text(app), 30)
    assert (runtime / "torchtui").is_dir() and not list((runtime / "torchtui").iterdir())
    shutil.rmtree(runtime)


async def test_a_dead_kernel_shows_a_banner_and_f9_brings_one_back():
    kernel = FakeKernel()

    async def exits(run: CellRun) -> None:  # the process ends; the app words why as it would
        kernel.die(t("kernel.exited", code=3))
        await run.wait()

    kernel.scripts["import os; os._exit(3)"] = exits
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        await type_cell(pilot, "import os; os._exit(3)")
        banner = app.screen.query_one("#kernel-banner")
        assert await wait_for(pilot, lambda: banner.has_class("-shown"), 30)
        assert "code 3" in static_text(banner) and "F9" in static_text(banner)
        await type_cell(pilot, "kept = 1")  # typed while dead: kept for the next kernel
        await pilot.press("f3")
        assert await wait_for(pilot, lambda: app.current_mode == "autograd")
        await pilot.press("f2")
        await pilot.press("f9")
        assert await wait_for(pilot, lambda: not banner.has_class("-shown"), 60)
        await type_cell(pilot, "kept + 1")
        assert await wait_for(pilot, lambda: "Out[2]: 2" in log_text(app), 30)
        sources = [json.loads(line)["src"] for line in app.history.path.read_text().splitlines()]
        assert sources == ["import os; os._exit(3)", "kept = 1", "kept + 1"]


async def test_input_and_getpass_are_answered_and_ctrl_c_cancels():
    kernel = FakeKernel()
    names = kernel.namespace

    async def name(run: CellRun) -> None:
        names["name"] = await run.input("name? ")

    async def password(run: CellRun) -> None:
        names["pw"] = await run.input("pw: ", password=True)

    kernel.scripts.update({"name = input('name? ')": name,
                           "import getpass; pw = getpass.getpass('pw: ')": password,
                           "input('wait: ')": lambda run: run.input("wait: "),
                           "input('more? ')": lambda run: run.input("more? ")})
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        await type_cell(pilot, "name = input('name? ')")
        assert await asked(pilot, app)
        field = screen.query_one("#stdin-input")
        assert app.focused is field and not screen.editor.display
        assert "name? " in str(screen.query_one("#stdin-label").content)
        await type_cell(pilot, "Ada")
        assert await wait_for(pilot, lambda: "name? Ada" in log_text(app))
        assert screen.editor.display and app.focused is screen.editor
        await type_cell(pilot, "name * 2")
        assert await wait_for(pilot, lambda: "Out[2]: 'AdaAda'" in log_text(app), 30)

        await type_cell(pilot, "import getpass; pw = getpass.getpass('pw: ')")
        assert await asked(pilot, app)
        assert field.password
        await type_cell(pilot, "s3cret")
        await type_cell(pilot, "len(pw)")
        assert await wait_for(pilot, lambda: "Out[4]: 6" in log_text(app), 30)
        assert "s3cret" not in log_text(app) and "pw: " in log_text(app)
        assert "s3cret" not in screen.stdin.history

        await type_cell(pilot, "input('wait: ')")
        assert await asked(pilot, app)
        await pilot.press("ctrl+c")
        assert await wait_for(pilot, lambda: "KeyboardInterrupt" in log_text(app), 20)
        assert not screen.stdin.shown and app.focused is screen.editor
        await type_cell(pilot, "name")
        assert await wait_for(pilot, lambda: "Out[6]: 'Ada'" in log_text(app), 30)

        await type_cell(pilot, "input('more? ')")
        assert await asked(pilot, app)
        assert "waits for your answer" in str(screen.query_one("#run-status").content)
        # the footer names the key in words, not by its translation key
        footer = screen.query_one("FittingFooter")
        assert await wait_for(pilot, lambda: any(getattr(key, "description", "") == "End of input"
                                                 for key in footer.children), 5)
        await pilot.press("x", "left", "ctrl+d")  # on a line with text: deletes, as in a shell
        assert field.value == "" and screen.stdin.shown
        await pilot.press("ctrl+d")  # on an empty line: end of file
        assert await wait_for(pilot, lambda: "EOFError" in log_text(app), 20)


@SLOW  # pdb's own prompts and stepping, in the kernel
async def test_a_pdb_session_steps_through_a_loop():
    app = make_app()
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen.run_source(STEPPED_LOOP)
        assert await asked(pilot, app)
        assert "ipdb> " in str(screen.query_one("#stdin-label").content)
        await type_cell(pilot, "n")  # runs `loss = loss / 2`
        assert await asked(pilot, app)
        await type_cell(pilot, "p loss")
        assert await wait_for(pilot, lambda: "\n4.0" in log_text(app), 20), log_text(app)
        assert await asked(pilot, app)
        await pilot.press("up")
        assert screen.query_one("#stdin-input").value == "p loss"  # the answers' history
        await pilot.press("ctrl+u")
        await type_cell(pilot, "c")
        assert await wait_for(pilot, lambda: "final 1.0" in log_text(app), 20), log_text(app)
        assert await wait_for(pilot, lambda: app.kernel.running is None and not screen.stdin.shown)
        assert app.focused is screen.editor


async def test_typed_indentation_replaces_the_auto_indent_and_backspace_removes_a_level():
    app = make_app(kernel=FakeKernel())
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        editor = app.screen.editor
        assert "empty line ends a block" in str(editor.placeholder)
        await pilot.press(*"for i in range(2):", "enter")
        await pilot.press("space", "space", "space", "space", *"print(i * 5)")  # typed as the tutorial prints it
        assert editor.text == "for i in range(2):\n    print(i * 5)"
        await pilot.press("enter")
        assert editor.text.endswith("\n    ")
        await pilot.press("backspace")
        assert editor.text.endswith("print(i * 5)\n")
        await pilot.press("enter")  # an empty line ends the block
        assert await wait_for(pilot, lambda: "\n5" in log_text(app), 30), log_text(app)
        assert "IndentationError" not in log_text(app)


async def test_output_pages_and_jumps_while_the_editor_keeps_focus_and_f7_copies(tmp_path):
    app = make_app(kernel=FakeKernel())
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # what OSC 52 would carry to the terminal
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen, output = app.screen, app.screen.output
        assert screen.has_class("-vars-folded")  # 80 columns: the output gets the width
        assert output.scrollable_content_region.width >= 76
        for i in range(4):
            screen.run_source(f"for k in range(12): print('cell{i}', k)")
        screen.run_source("6 * 7")
        assert await wait_for(pilot, lambda: "Out[5]: 42" in log_text(app), 30)
        assert await wait_for(pilot, lambda: output.max_scroll_y > 0 and output.scroll_y == output.max_scroll_y, 10)
        bottom = output.scroll_y
        await pilot.press("pageup")
        assert output.scroll_y < bottom and app.focused is screen.editor
        await pilot.press("ctrl+up")
        assert output.top_cell() is not None
        number = screen.session_cells[output.top_cell()].number
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "CopyPicker", 5)
        await pilot.press("enter")  # the first choice: the cell's input
        assert copied == [f"for k in range(12): print('cell{number - 1}', k)"]
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown", "pagedown", "pagedown")
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "CopyPicker", 5)
        await pilot.press(*"value", "enter")
        assert copied[-1] == "42"
        await pilot.press("f6")
        assert not screen.has_class("-vars-folded")


async def test_text_dragged_over_with_the_mouse_in_the_output_log_is_shown_and_f7_copies_it():
    app = make_app(kernel=FakeKernel())
    copied: list[str] = []
    app.copy_to_clipboard = copied.append
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen, output = app.screen, app.screen.output
        screen.run_source("print('alpha beta')\nprint('gamma 你好 delta')")
        printed = lambda: [strip.text.rstrip() for strip in output.lines]  # noqa: E731
        # the printed rows themselves (the cell's input, echoed first, holds the same words)
        assert await wait_for(pilot, lambda: {"alpha beta", "gamma 你好 delta"} <= set(printed()), 30)
        assert await wait_for(pilot, lambda: output.scroll_y == output.max_scroll_y, 10)  # (following the end)
        rows = [strip.text.rstrip() for strip in output.lines]
        first = rows.index("alpha beta")
        top = first - round(output.scroll_y)
        left = output.region.x - output.content_region.x  # the log's padding is not text
        # press on "beta", drag to the end of "你好" on the next line, release
        await pilot.mouse_down(output, offset=(6 - left, top))
        end = len("gamma 你") + 1  # the column where 好 starts (你 takes two)
        await pilot.hover(output, offset=(end - left, top + 1))
        await pilot.mouse_up(output, offset=(end - left, top + 1))
        assert await wait_for(pilot, lambda: screen.get_selected_text() == "beta\ngamma 你好", 10), \
            screen.get_selected_text()
        assert screen.get_selected_text() == "beta\ngamma 你好"
        picked = output.render_line(top)  # the selection is drawn
        styles = {seg.text: seg.style for seg in picked if seg.text.strip()}
        assert any("beta" in text for text in styles) and not any("alpha beta" in text for text in styles)
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: copied == ["beta\ngamma 你好"], 10), copied
        assert app.focused is screen.editor and not screen.selections


async def test_tensors_are_printed_to_the_width_of_the_output_log(monkeypatch, print_options):
    from engine.kernel.state import OWN_KERNEL_ENV
    from tui.kernel.display import text_of

    monkeypatch.setenv(OWN_KERNEL_ENV, "1")  # the app's own kernel prints to the width it is told
    kernel = engine_kernel()
    serve_engine(kernel)
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen, output = app.screen, app.screen.output

        async def value_lines(number: int) -> list[str]:
            screen.run_source("torch.arange(24.).reshape(2, 12) * 1000")
            assert await wait_for(pilot, lambda: f"Out[{number}]:" in log_text(app), 30), log_text(app)
            cell = list(screen.session_cells.values())[-1]
            return text_of(cell.value).split("\n")

        def width_told() -> bool:  # the log's width sent to the kernel, and its answer back
            return (screen._log_width > 0 and screen._width_timer is None and screen._width_sent == screen._log_width
                    and not any(w.name == "WidthSet" and not w.is_finished for w in app.workers))

        assert await wait_for(pilot, width_told, 30)
        narrow = await value_lines(1)
        width = output.scrollable_content_region.width
        assert len(narrow) == 4 and max(map(len, narrow)) <= width, (width, narrow)
        # a value of several lines starts under Out[n], so its rows line up in the log
        assert f"Out[1]:\n{narrow[0]}" in log_text(app)
        narrow_width = screen._log_width
        await pilot.resize_terminal(180, 30)
        assert await wait_for(pilot, lambda: screen._log_width > narrow_width and width_told(), 30)
        wide = await value_lines(2)
        assert len(wide) == 2, wide  # each row of 12 on one line


async def test_save_writes_a_script_and_a_notebook_jupyter_reads(tmp_path):
    """(%save is the app's, from what the log showed; %load, the kernel's, is tested with %run.)"""
    import nbformat

    app = make_app(kernel=engine_kernel())
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen = app.screen
        screen.run_source("x = torch.arange(3.)\nprint('hello')")
        screen.run_source("x * 2")
        screen.run_source("1/0")
        assert await wait_for(pilot, lambda: "ZeroDivisionError" in log_text(app), 30)
        screen.run_source(f"%save {tmp_path}/s.ipynb")
        screen.run_source(f"%save {tmp_path}/s.py")
        assert await wait_for(pilot, lambda: (tmp_path / "s.py").exists(), 10)
        nb = nbformat.read(tmp_path / "s.ipynb", as_version=4)
        nbformat.validate(nb)
        assert [c.source for c in nb.cells] == ["x = torch.arange(3.)\nprint('hello')", "x * 2", "1/0"]
        assert nb.cells[0].outputs[0].text == "hello\n"
        assert nb.cells[1].outputs[0].data["text/plain"].startswith("tensor([0., 2., 4.])")
        assert nb.cells[2].outputs[0].ename == "ZeroDivisionError"
        script = (tmp_path / "s.py").read_text()
        compile(script, "s.py", "exec")
        assert "x * 2" in script


@SLOW  # IPython's %run and %load
async def test_run_runs_a_script_in_the_namespace_with_its_output_live_and_live_calls_and_load_fills_the_editor(
        tmp_path):
    script = tmp_path / "train step.py"  # a space in the name, as people's files have
    # the script calls live() too: it is the kernel's builtin, seen by a script run with %run
    script.write_text("import time\nimport torch\nw = torch.ones(2) * 3\nprint('first line', flush=True)\n"
                      "time.sleep(1.5)\nfor i in range(200):\n    live(acc=torch.tensor(i / 200))\n"
                      "print('second line')\n")
    app = make_app()
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen = app.screen
        screen.run_source(f'%run "{script}"')
        assert await wait_for(pilot, lambda: "first line" in log_text(app), 30), log_text(app)
        # shown while the script still runs
        assert app.kernel.running is not None and "second line" not in log_text(app)
        assert await wait_for(pilot, lambda: "second line" in log_text(app), 30), log_text(app)
        assert await wait_for(pilot, lambda: screen.live is not None and "acc" in screen.live.series
                              and screen.live.series["acc"].count == 200, 30), log_text(app)[-800:]
        assert abs(screen.live.series["acc"].last - 199 / 200) < 1e-6  # a float32 tensor
        screen.run_source("w.sum().item()")  # the script's names are in the namespace
        assert await wait_for(pilot, lambda: "6.0" in log_text(app), 30), log_text(app)
        (tmp_path / "snippet.py").write_text("y = 5\n")
        screen.run_source(f"%load {tmp_path}/snippet.py")
        assert await wait_for(pilot, lambda: "y = 5" in screen.editor.text, 40), (log_text(app)[-800:], screen.editor.text)


async def test_a_cell_sent_first_in_line_reads_as_running_before_the_kernel_says_so():
    """A C call that takes the GIL at once (sum(range(10**11))) can keep even the kernel's "it
    started" message from going out: the first cell sent to an idle kernel is still running."""
    import time

    from tests.helpers import static_text
    from tui.kernel.base import Cell

    app = make_app(kernel=FakeKernel())
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen = app.screen
        app.kernel.cells["unannounced"] = Cell("sum(range(10**11))", time.monotonic() - 2)
        try:
            screen._update_run_status()
            assert await wait_for(pilot, lambda: "● running" in static_text(screen.query_one("#run-status")), 10)
            status = static_text(screen.query_one("#run-status"))
            assert "● running 2." in status and "queued" not in status, status
            assert screen.check_action("interrupt", ()) is True  # ctrl+c stops it
        finally:
            app.kernel.cells.pop("unannounced")
        # Sent a moment ago, and the kernel not yet heard from: about to run, not "queued"
        app.kernel.cells["just sent"] = Cell("side(qa) @ qb", time.monotonic())
        try:
            screen._update_run_status()
            assert "queued" not in static_text(screen.query_one("#run-status"))
        finally:
            app.kernel.cells.pop("just sent")


@SLOW  # the Jupyter shell channel's reader
async def test_hundreds_of_cells_sent_at_once_are_all_answered_in_order():
    """The app's shell reader never loses a reply: a send on the same socket could take its
    wake-up, and it stopped for good after some dozens of quick cells."""
    app = make_app()
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        kernel = app.kernel
        for i in range(400):
            kernel.execute(f"{i} * 3")
        assert await wait_for(pilot, lambda: not kernel.cells and not kernel.unsent, 90), \
            f"{len(kernel.cells) + len(kernel.unsent)} cells never answered"
        assert await wait_for(pilot, lambda: f"Out[400]: {399 * 3}" in log_text(app), 30)


async def test_the_footer_drops_ctrl_c_once_the_cells_are_done(monkeypatch):
    """A long cell shows ctrl+c in the footer, and it goes when the cell is done; a footer rebuilt
    for another reason while a quick cell runs must not keep it either."""
    from tui.screens import playground

    kernel = FakeKernel()
    app = make_app(kernel=kernel)
    async with running(app, size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen = app.screen

        def footer_keys() -> list[str]:
            footer = screen.query_one("FittingFooter")
            return [w.key for w in footer.children if hasattr(w, "key_display")]

        kernel.hold()  # a long cell: it runs until released
        screen.run_source("import time; time.sleep(0.8)")
        assert await wait_for(pilot, lambda: "ctrl+c" in footer_keys(), 10)
        kernel.release()
        assert await wait_for(pilot, lambda: "ctrl+c" not in footer_keys(), 10), footer_keys()
        # too quick to be shown as long-running itself, however long it is held here
        monkeypatch.setattr(playground, "FOOTER_INTERRUPT_AFTER_S", 3600)
        kernel.hold()
        screen.run_source("1 + 1")
        assert await wait_for(pilot, lambda: kernel.running is not None)
        screen.refresh_bindings()  # rebuilt meanwhile, as a focus change or a dialog does
        assert await wait_for(pilot, lambda: "ctrl+c" in footer_keys(), 5)
        kernel.release()
        assert await wait_for(pilot, lambda: "Out[2]: 2" in log_text(app), 30)
        assert await wait_for(pilot, lambda: "ctrl+c" not in footer_keys(), 5), footer_keys()


@SLOW  # the kernel's matplotlib backend and fonts
async def test_the_seed_program_as_one_cell_draws_its_figure_in_the_log(tmp_path):
    app = make_app()
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen, output = app.screen, app.screen.output
        screen.run_source(SEED_PROGRAM)
        assert await wait_for(pilot, lambda: "true weight 42." in log_text(app), 120), log_text(app)[-2000:]
        assert len(output.figures) == 1  # one figure, both subplots in it
        import io

        from PIL import Image

        with Image.open(io.BytesIO(output.figures[0])) as image:
            width, height = image.size
        assert 2.5 < width / height < 3.5  # figsize (12, 4)
        # the font note is printed after the cell's last line (the kernel's post-run hook): wait for it
        assert await wait_for(pilot, lambda: "font SimHei is not installed" in log_text(app), 30), log_text(app)[-2000:]
        text = log_text(app)
        rows = [line for line in text.splitlines() if line.strip() and set(line.strip()) == {"▀"}]
        assert 8 <= len(rows) <= 30 and max(len(r.strip()) for r in rows) >= 70  # as wide as the log
        # missing SimHei: one short note, not a warning per character
        assert text.count("font SimHei is not installed") == 1 and "findfont" not in text and "Glyph" not in text, text[-3000:]
        await pilot.press("f8")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "FigureView", 5)
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: app.focused is screen.editor, 5)
        screen.run_source(f"%save {tmp_path}/fig.png")
        saved = tmp_path / "fig.png"
        assert await wait_for(pilot, lambda: saved.exists() and saved.read_bytes() == output.figures[0], 30)


async def test_live_from_a_10000_step_loop_delivers_every_step_and_draws_under_the_log(tmp_path, monkeypatch):
    kernel = engine_kernel()
    engine_live(kernel, monkeypatch)
    serve_engine(kernel)  # the CSV export
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen = app.screen
        screen.run_source("w = torch.zeros(1, requires_grad=True)\n"
                          "for step in range(10_000):\n"
                          "    loss = ((w - 3) ** 2).sum()\n"
                          "    live(loss=loss, half=step / 2)\n")
        assert await wait_for(pilot, lambda: screen.live is not None and "loss" in screen.live.series
                              and screen.live.series["loss"].count == 10_000, 60), log_text(app)[-1500:]
        panel = screen.live
        assert panel.series["half"].count == 10_000 and panel.series["half"].last == 4999.5
        assert panel.series["loss"].last == 9.0  # the last value, read from the tensor
        assert panel.shown and app.focused is screen.editor  # shown without taking the keys
        assert await wait_for(pilot, lambda: [str(plot.title) for plot in panel.query("LossPlot")] == ["loss", "half"],
                              60)
        titles = [str(plot.title) for plot in panel.query("LossPlot")]
        assert titles == ["loss", "half"]  # two plots side by side at 80 columns
        # a new cell is a new run; the one before stays as the faint curve
        screen.run_source("for step in range(50):\n    live(loss=float(step))")
        assert await wait_for(pilot, lambda: panel.series.get("loss") and panel.series["loss"].count == 50, 30)
        assert panel.previous["loss"].count == 10_000
        await pilot.press("ctrl+g")
        assert app.focused is panel
        await pilot.press("l")
        assert panel.log_scale
        await pilot.press("e")
        from engine.exports import default_dir

        csv = default_dir() / f"live_run{panel.run}.csv"
        assert await wait_for(pilot, csv.exists, 10)
        lines = csv.read_text().splitlines()
        assert lines[0] == "step,loss" and len(lines) == 51 and lines[-1] == "50,49.0"
        await pilot.press("ctrl+g")
        assert not panel.shown and app.focused is screen.editor


@SLOW  # the kernel's own words for live()'s errors
def test_live_says_what_it_takes(kernel):
    for source, needle in [("live(loss=torch.ones(3))", "pass loss.mean() or loss.item()"),
                           ("live(name='text')", "not str")]:
        cell = kernel.run(source)
        assert needle in cell.error_text, cell.text()


@SLOW  # IPython's execution count as live() reads it
def test_the_live_run_is_named_after_the_cell_that_called_live(kernel):
    from tui.kernel import events as ev

    kernel.run("before = 1")  # a cell before it, so that its number is not the first
    with kernel.cond:
        mark = len(kernel.events)
    cell = kernel.run("for step in range(5):\n    live(loss=float(step))")
    assert cell.ok, cell.text()
    started = [e for e in cell.events if isinstance(e, ev.CellStarted)]
    news = kernel.first_since(mark, lambda e: isinstance(e, LiveSeries) and "loss" in e.series, 30)
    assert news is not None
    # the log's In [n] and the panel's title both come from these numbers
    assert news.run == started[0].number == cell.done.number


async def test_the_log_keeps_its_end_in_sight_when_the_live_panel_opens_under_a_long_output(monkeypatch):
    kernel = engine_kernel()
    engine_live(kernel, monkeypatch)
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen, output = app.screen, app.screen.output
        screen.run_source("help(torch.ones)")  # more lines than the log shows
        assert await wait_for(pilot, lambda: "Keyword arguments" in log_text(app)
                              and app.kernel.running is None, 60)
        assert await wait_for(pilot, lambda: output.is_vertical_scroll_end and output.max_scroll_y > 0)
        rows = output.scrollable_content_region.height
        screen.run_source("for step in range(300):\n    live(loss=float(step))")  # prints nothing
        assert await wait_for(pilot, lambda: screen.live is not None and screen.live.shown
                              and output.scrollable_content_region.height < rows, 60)
        # the live cell's input, the last thing written, is still in sight
        assert await wait_for(pilot, lambda: output.is_vertical_scroll_end, 10), (output.scroll_y, output.max_scroll_y)
        number, row = output.cell_rows()[-1]
        assert output.scroll_y <= row < output.scroll_y + output.scrollable_content_region.height
        # and the panel names that cell
        title = screen.live.query_one("#live-title")
        assert await wait_for(pilot, lambda: f"In [{number}]" in static_text(title), 10), static_text(title)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_kill_offer_shows_whole_at_80_columns(lang):
    from tests.helpers import shown_lines
    from tui.i18n import t

    kernel = FakeKernel()
    source = "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); exec('while True: pass')"

    async def deaf(run: CellRun) -> None:  # only a restart stops it
        run.ignore_interrupts()
        await run.wait()

    kernel.scripts[source] = deaf
    app = make_app(lang=lang, kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        app.screen.run_source(source)  # (as Enter sends it: typing is tested elsewhere, at 0.1 s a key)
        assert await wait_for(pilot, lambda: app.kernel.running is not None)
        await pilot.press("ctrl+c")
        offer = t("pg.kill_offer")
        status = app.screen.query_one("#run-status")
        assert await wait_for(pilot, lambda: offer in static_text(status), 10)
        await pilot.pause()
        assert offer in shown_lines(status)[0]  # drawn whole, not cut at the line's end
        await pilot.press("ctrl+c")
        assert await wait_for(pilot, lambda: app.kernel.ready and app.kernel.running is None, 60)


async def test_the_variables_pane_shows_whole_names_and_types_at_120_columns():
    from tests.helpers import shown_lines

    kernel = engine_kernel()
    send_variables(kernel)
    serve_engine(kernel)  # the details of a variable
    app = make_app(kernel=kernel)
    async with running(app, size=(120, 40)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen = app.screen  # cells sent as Enter sends them: typing is tested elsewhere, at 0.1 s a key
        screen.run_source("train_x = torch.randn(100, 3)")
        screen.run_source("model = nn.Sequential(nn.Linear(3, 1))")
        screen.run_source("a_really_long_variable_name = torch.zeros(2, 3, 4, 5, dtype=torch.float64)")
        table = app.screen.query_one("#vars")
        assert await wait_for(pilot, lambda: table.row_count == 3, 30)
        await pilot.pause()
        shown = "\n".join(shown_lines(table))
        for whole in ("train_x", "Sequential", "float32", "float64", "(2, 3, 4, 5)", "a_real…_name"):
            assert whole in shown, whole
        table.focus()
        table.move_cursor(row=2)  # the elided name: whole in the details
        details = app.screen.query_one("#var-details")
        assert await wait_for(pilot, lambda: "a_really_long_variable_name:" in static_text(details), 30)


@pytest.fixture
def print_options():
    """The test's torch and numpy print options, put back: the engine's handler sets them for the
    kernel's process, here the test's own."""
    import numpy as np
    import torch

    linewidth, numpy = torch._tensor_str.PRINT_OPTS.linewidth, np.get_printoptions()
    yield
    torch.set_printoptions(linewidth=linewidth)
    np.set_printoptions(**numpy)


async def test_a_block_pasted_with_two_statements_on_a_line_is_offered_mended_by_one_key():
    """A SyntaxError from a paste: the note under it names ctrl+f, which puts the cell in the
    editor with its glued line split and its stray triple quote gone; Enter runs it."""
    app = make_app(kernel=FakeKernel())
    async with running(app, size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen, editor = app.screen, app.screen.editor
        await pilot.press("ctrl+f")  # no fix offered: nothing happens
        assert editor.text == ""
        pasted = 'data = [[1, 2], [3, 4]]\nprint(len(data))data = data[0]\nprint(data)"""'
        editor.insert(pasted)  # as a paste puts it
        assert editor.text == pasted
        await pilot.press("enter")
        note = t("pg.syntax_fix", key="ctrl+f")

        def notes() -> int:  # (the log wraps the note)
            return " ".join(log_text(app).split()).count(note)

        assert await wait_for(pilot, lambda: notes() == 1, 30), log_text(app)
        assert "SyntaxError" in log_text(app) and editor.text == ""
        await pilot.press("ctrl+f")
        assert editor.text == 'data = [[1, 2], [3, 4]]\nprint(len(data))\ndata = data[0]\nprint(data)'
        assert editor.cursor_location == editor.document.end
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: "\n2\n[1, 2]" in log_text(app), 30), log_text(app)
        assert not screen.fix
        await pilot.press("ctrl+f")  # the offer went with the cell it was for
        assert editor.text == ""
        await type_cell(pilot, "for i in range(3) print(i)")  # not a paste's doing: no offer
        assert await wait_for(pilot, lambda: log_text(app).count("SyntaxError") == 2, 30)
        assert notes() == 1 and not screen.fix
