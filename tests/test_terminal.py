"""At home in a terminal: resizes, key bursts as they arrive over SSH, and states said out loud."""

from __future__ import annotations

import pytest
from textual import events

from tests.helpers import log_text, start_long_run, wait_for
from tui.app import make_app


async def test_focus_comes_back_after_the_terminal_was_too_small():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        editor = app.screen.editor
        await pilot.resize_terminal(60, 20)
        await pilot.pause(0.1)
        assert app.screen.has_class("-too-small")
        await pilot.press("7", "*", "6", "enter")  # typed while too small: kept for the editor
        await pilot.resize_terminal(80, 24)
        await pilot.press("2", "*")  # typed at once after the resize back: kept too
        await pilot.pause(0.1)
        assert app.focused is editor
        await pilot.press("1", "+", "1", "enter")
        assert await wait_for(pilot, lambda: "Out[1]: 42" in log_text(app), 30), log_text(app)
        assert await wait_for(pilot, lambda: "Out[2]: 3" in log_text(app), 30), log_text(app)  # 2*1+1


async def test_a_burst_of_keys_acts_on_the_widget_focused_after_the_keys_before_it():
    app = make_app(screen="train")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.ready, 60)
        await pilot.pause(0.2)
        screen.query_one("#f-bias").focus()
        await pilot.pause(0.1)
        # all at once, as tmux send-keys or an SSH connection delivers them
        for key, char in [("tab", None), ("tab", None), ("tab", None), ("ctrl+a", None), ("ctrl+k", None),
                          ("3", "3"), ("0", "0"), ("0", "0"), ("0", "0")]:
            app.post_message(events.Key(key, char))
        assert await wait_for(pilot, lambda: screen.query_one("#f-epochs").value == "3000", 5)
        assert screen.query_one("#f-bias").value == "1.5"
        assert app.focused is screen.query_one("#f-epochs")


async def test_a_diverged_run_says_so_and_does_not_set_the_next_runs_scale():
    from tests.helpers import static_text

    app = make_app(screen="train")
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.ready and app.kernel.ready, 60)
        screen.query_one("#f-lr").value = "5"
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: not screen.running and screen.latest is not None, 60)
        await pilot.pause(0.5)  # redraw ticks come and go: the verdict stays
        status = static_text(screen.query_one("#tr-status"))
        assert "diverged" in status and "epoch" in status and "step" in status and "lower learning rate" in status
        # the fit keeps the data's scale: the runaway line does not stretch it
        fit = screen.query_one("#fit-plot").render().plain.splitlines()
        labels = [line.split("┤")[0].strip() for line in fit if "┤" in line]
        assert labels and all(len(label) <= 8 for label in labels), labels
        assert max(abs(float(label)) for label in labels) < 1000, labels
        screen.query_one("#f-lr").value = "0.01"
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: screen.result is not None, 60)
        await pilot.pause(0.3)
        plot = screen.query_one("#loss-plot").render().plain.splitlines()
        labels = [line.split("┤")[0].strip() for line in plot if "┤" in line]
        assert labels and all(len(label) <= 8 for label in labels), labels
        assert max(float(label) for label in labels) < 5000  # this run's scale, not the diverged one's


def test_axis_numbers_are_compact_and_ranges_ignore_what_is_not_finite():
    from engine.plotdata import clip, compact, finite, value_range

    assert compact(5.75e26) == "5.8e+26" and compact(1786.5) == "1786.5" and compact(0.0123) == "0.0123"
    assert finite([1, 2, 3], [1.0, float("inf"), float("nan")]) == ([1], [1.0])
    low, high = value_range([10.0, 20.0, float("inf")])
    assert low < 10 < 20 < high < 21
    assert clip([1e27, 5.0], 0.0, 30.0) == [30.0, 5.0]


async def test_export_dialog_takes_a_path_typed_at_once(tmp_path):
    from tui.screens.export import ExportScreen

    app = make_app(screen="learn")
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.screen.ready, 60)
        app.push_screen(ExportScreen())
        await pilot.pause(0.2)
        field = app.screen.query_one("#ex-folder")
        assert app.focused is field
        await pilot.press("ctrl+u", *"/tmp/x")
        assert field.value.endswith("/tmp/x")


def test_the_script_of_a_stopped_run_runs_the_epochs_that_happened():
    from engine.exports import script_text
    from engine.training import RunConfig

    text = script_text(RunConfig(epochs=3000), "cpu", 'odd "name".py', epochs_run=609)
    assert "EPOCHS, LR, SEED = 16, True, 609," in text
    assert "stopped after 609 of its 3000 epochs" in text
    compile(text, "exported.py", "exec")  # a file name with quotes stays a comment, not code
    assert "EPOCHS, LR, SEED = 16, True, 3000," in script_text(RunConfig(epochs=3000), "cpu")


async def test_footers_show_whole_keys_only_in_both_languages():
    from rich.cells import cell_len

    from tui.screens import SCREENS

    for lang in ("en", "zh"):
        for mode in SCREENS:
            app = make_app(screen=mode, lang=lang)
            async with app.run_test(size=(80, 24)) as pilot:
                assert await wait_for(pilot, lambda app=app: app.screen.ready, 60)
                await pilot.pause(0.3)
                footer = app.screen.query_one("FittingFooter")
                keys = [w for w in footer.children if hasattr(w, "key_display")]
                shown = {w.key for w in keys}
                assert "f1" in shown, (lang, mode)
                used = sum(w.region.width for w in keys)
                assert used <= 80, (lang, mode)
                for w in keys:  # each key drawn whole: its region holds its full label
                    label = f"{w.key_display} {w.description}".strip()
                    assert w.region.width >= cell_len(label), (lang, mode, label)


def test_learn_keys_are_listed_once_in_help():
    from tui.bindings import rows
    from tui.screens.learn import LearnScreen

    keys = [keys for keys, _, _ in rows(list(LearnScreen.BINDINGS))]
    assert "1-4" in keys and "2" not in keys and "3" not in keys and "4" not in keys
    assert len(keys) == len(set(keys))


async def test_typed_indentation_replaces_the_auto_indent_and_backspace_removes_a_level():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
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
    app = make_app()
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # what OSC 52 would carry to the terminal
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen, output = app.screen, app.screen.output
        assert screen.has_class("-vars-folded")  # 80 columns: the output gets the width
        assert output.scrollable_content_region.width >= 76
        for i in range(4):
            screen.run_source(f"for k in range(12): print('cell{i}', k)")
        screen.run_source("6 * 7")
        assert await wait_for(pilot, lambda: "Out[5]: 42" in log_text(app), 30)
        await pilot.pause(0.2)
        bottom = output.scroll_y
        await pilot.press("pageup")
        assert output.scroll_y < bottom and app.focused is screen.editor
        await pilot.press("ctrl+up")
        assert output.top_cell() is not None
        number = output.top_cell()
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
    app = make_app()
    copied: list[str] = []
    app.copy_to_clipboard = copied.append
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen, output = app.screen, app.screen.output
        screen.run_source("print('alpha beta')\nprint('gamma 你好 delta')")
        assert await wait_for(pilot, lambda: "gamma" in log_text(app), 30)
        await pilot.pause(0.2)
        rows = [strip.text.rstrip() for strip in output.lines]
        first = rows.index("alpha beta")
        top = first - round(output.scroll_y)
        left = output.region.x - output.content_region.x  # the log's padding is not text
        # press on "beta", drag to the end of "你好" on the next line, release
        await pilot.mouse_down(output, offset=(6 - left, top))
        end = len("gamma 你") + 1  # the column where 好 starts (你 takes two)
        await pilot.hover(output, offset=(end - left, top + 1))
        await pilot.mouse_up(output, offset=(end - left, top + 1))
        await pilot.pause(0.1)
        assert screen.get_selected_text() == "beta\ngamma 你好"
        picked = output.render_line(top)  # the selection is drawn
        styles = {seg.text: seg.style for seg in picked if seg.text.strip()}
        assert any("beta" in text for text in styles) and not any("alpha beta" in text for text in styles)
        await pilot.press("f7")
        await pilot.pause(0.1)
        assert copied == ["beta\ngamma 你好"]
        assert app.focused is screen.editor and not screen.selections


async def test_tensors_are_printed_to_the_width_of_the_output_log():
    from tui.kernel.display import text_of

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen, output = app.screen, app.screen.output

        async def value_lines(number: int) -> list[str]:
            screen.run_source("torch.arange(24.).reshape(2, 12) * 1000")
            assert await wait_for(pilot, lambda: f"Out[{number}]:" in log_text(app), 30), log_text(app)
            cell = list(screen.session_cells.values())[-1]
            return text_of(cell.value).split("\n")

        await pilot.pause(0.5)  # the width reaches the kernel
        narrow = await value_lines(1)
        width = output.scrollable_content_region.width
        assert len(narrow) == 4 and max(map(len, narrow)) <= width, (width, narrow)
        # a value of several lines starts under Out[n], so its rows line up in the log
        assert f"Out[1]:\n{narrow[0]}" in log_text(app)
        await pilot.resize_terminal(180, 30)
        await pilot.pause(0.8)
        wide = await value_lines(2)
        assert len(wide) == 2, wide  # each row of 12 on one line


async def test_save_writes_a_script_and_a_notebook_jupyter_reads_and_load_fills_the_editor(tmp_path):
    import nbformat

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
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
        (tmp_path / "snippet.py").write_text("y = 5\n")
        screen.run_source(f"%load {tmp_path}/snippet.py")
        assert await wait_for(pilot, lambda: "y = 5" in screen.editor.text, 40), (log_text(app)[-800:], screen.editor.text)


async def test_run_runs_a_script_in_the_namespace_with_its_output_live(tmp_path):
    script = tmp_path / "train step.py"  # a space in the name, as people's files have
    script.write_text("import time\nimport torch\nw = torch.ones(2) * 3\nprint('first line', flush=True)\n"
                      "time.sleep(1.5)\nprint('second line')\n")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen = app.screen
        screen.run_source(f'%run "{script}"')
        assert await wait_for(pilot, lambda: "first line" in log_text(app), 30), log_text(app)
        # shown while the script still runs
        assert app.kernel.running is not None and "second line" not in log_text(app)
        assert await wait_for(pilot, lambda: "second line" in log_text(app), 30), log_text(app)
        screen.run_source("w.sum().item()")  # the script's names are in the namespace
        assert await wait_for(pilot, lambda: "6.0" in log_text(app), 30), log_text(app)


@pytest.mark.parametrize("args,needle", [
    (["--data-seed", "-1"], "between 0 and 4294967295"),
    (["--data-seed", "4294967296"], "between 0 and 4294967295"),
    (["--seed", str(2**64)], "2**63 - 1"),
    (["--lr", "1e308"], "at most 1e+06"),
    (["--export-script", ""], "needs a file path"),
    (["--bias", "-inf"], "expected a finite number, got '-inf'"),
])
def test_every_bad_training_value_is_one_line_and_exit_2(args, needle, capsys):
    from tui import cli

    assert cli.main(["train", "--headless", "--epochs", "2", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err


def test_negative_values_are_read_as_users_type_them_and_json_has_the_optimum(capsys):
    import json

    from tui import cli

    assert cli.glue_negative_values(["train", "--bias", "-2.5", "--noise", "3"]) == \
        ["train", "--bias=-2.5", "--noise", "3"]
    assert cli.main(["train", "--headless", "--epochs", "2", "--bias", "-2.5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["true_bias"] == -2.5
    assert len(result["optimal_weight"]) == 1 and isinstance(result["optimal_bias"], float)


async def test_a_run_at_80x24_folds_the_form_so_each_plot_gets_8_rows_and_says_the_time_left():
    from engine.training import Progress
    from tests.helpers import static_text
    from tui.kernel.events import KernelNews

    app = make_app(screen="train")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_long_run(pilot)
        await pilot.pause(0.3)
        assert screen.has_class("-form-folded")
        assert "epochs 100000" in static_text(screen.query_one("#tr-summary"))
        for plot in ("#loss-plot", "#fit-plot"):
            assert screen.query_one(plot).size.height >= 8, plot
        # a run past 5 s says how long it has left
        screen.handle_kernel_news(KernelNews("train_progress", {
            "run": screen.run_id, "progress": Progress(10, 100, 50, 1.0, (1.0,), 0.0, 100.0, 12.0, True)}))
        screen._redraw()
        assert "about 108 s left" in static_text(screen.query_one("#tr-status"))
        await pilot.press("ctrl+b")
        assert not screen.has_class("-form-folded") and app.focused is screen.query_one("#f-samples")
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: not screen.running, 30)


async def test_the_autograd_graph_pane_takes_the_rows_its_graph_needs_up_to_half():
    app = make_app(screen="autograd")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.recording is not None, 60)
        await pilot.pause(0.2)
        box = screen.query_one("#ag-graph-box")
        assert box.outer_size.height == 5 + 2  # the scalar example: five nodes, and the frame
        screen.load_example("mlp")
        assert await wait_for(pilot, lambda: "mlp" in screen.title_text, 60)
        await pilot.pause(0.2)
        assert box.outer_size.height == 12  # ten nodes and the frame, within half of 24 rows


async def test_a_cell_sent_first_in_line_reads_as_running_before_the_kernel_says_so():
    """A C call that takes the GIL at once (sum(range(10**11))) can keep even the kernel's "it
    started" message from going out: the first cell sent to an idle kernel is still running."""
    import time

    from tests.helpers import static_text
    from tui.kernel.session import Cell

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen = app.screen
        app.kernel.cells["unannounced"] = Cell("sum(range(10**11))", time.monotonic() - 2)
        try:
            screen._update_run_status()
            await pilot.pause(0.1)
            status = static_text(screen.query_one("#run-status"))
            assert "● running 2." in status and "queued" not in status, status
            assert screen.check_action("interrupt", ()) is True  # ctrl+c stops it
        finally:
            app.kernel.cells.pop("unannounced")


async def test_hundreds_of_cells_sent_at_once_are_all_answered_in_order():
    """The app's shell reader never loses a reply: a send on the same socket could take its
    wake-up, and it stopped for good after some dozens of quick cells."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        kernel = app.kernel
        for i in range(400):
            kernel.execute(f"{i} * 3")
        assert await wait_for(pilot, lambda: not kernel.cells and not kernel.unsent, 90), \
            f"{len(kernel.cells) + len(kernel.unsent)} cells never answered"
        assert await wait_for(pilot, lambda: f"Out[400]: {399 * 3}" in log_text(app), 30)


async def test_the_footer_drops_ctrl_c_once_the_cells_are_done():
    """A long cell shows ctrl+c in the footer, and it goes when the cell is done; a footer rebuilt
    for another reason while a quick cell runs must not keep it either."""
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen = app.screen

        def footer_keys() -> list[str]:
            footer = screen.query_one("FittingFooter")
            return [w.key for w in footer.children if hasattr(w, "key_display")]

        screen.run_source("import time; time.sleep(0.8)")
        assert await wait_for(pilot, lambda: "ctrl+c" in footer_keys(), 10)
        assert await wait_for(pilot, lambda: "ctrl+c" not in footer_keys(), 10), footer_keys()
        screen.run_source("time.sleep(0.25); 1 + 1")  # too quick to be shown as long-running itself
        await pilot.pause(0.05)
        screen.refresh_bindings()  # rebuilt meanwhile, as a focus change or a dialog does
        assert await wait_for(pilot, lambda: "ctrl+c" in footer_keys(), 5)
        assert await wait_for(pilot, lambda: "Out[2]: 2" in log_text(app), 30)
        assert await wait_for(pilot, lambda: "ctrl+c" not in footer_keys(), 5), footer_keys()
