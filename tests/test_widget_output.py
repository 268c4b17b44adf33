"""tui/widgets/output.py: how printed output reads in the log (colours, carriage returns, long output)."""

from tui.widgets.output import HEAD, TAIL, CellText, ansi_text, overwrite


def test_colours_are_drawn_and_other_codes_dropped():
    text = ansi_text("\x1b[2J\x1b[31mred\x1b[0m plain\x07\x1b]0;title\x07")
    assert text.plain == "red plain"
    assert [s.style.color.number for s in text.spans if s.end == 3] == [1]  # ANSI red


def test_carriage_return_rewrites_the_line():
    assert overwrite("10%\r20%\r30%") == "30%"
    assert overwrite("abcdef\rxy") == "xycdef"


def test_a_progress_bar_is_one_live_line_until_its_newline():
    cell = CellText()
    assert cell.feed(" 10%|#         |\r") == []
    assert cell.feed(" 50%|#####     |\r") == []
    assert cell.live_line() == " 50%|#####     |"
    assert cell.feed("100%|##########|\n") == ["100%|##########|"]
    assert cell.live_line() == ""


def test_long_output_keeps_head_and_tail():
    cell = CellText()
    shown = []
    total = 0
    for i in range(0, 100_000, 1000):  # printed in bursts, as the kernel sends it
        burst = "".join(f"line {j}\n" for j in range(i, i + 1000))
        total += len(burst)
        shown += cell.feed(burst)
    kept = sum(len(s) + 1 for s in shown) + len(cell.tail)
    assert shown[0] == "line 0" and sum(len(s) + 1 for s in shown) <= HEAD
    assert cell.tail_lines()[-1] == "line 99999" and len(cell.tail) <= TAIL
    assert kept + cell.cut == total  # every character is shown, or counted in the note
    assert all(line.startswith("line ") for line in cell.tail_lines())  # cut at line starts


def test_a_line_of_one_stream_ends_when_the_other_stream_writes():
    """tqdm draws on stderr and ends its bar with a newline when the loop is done; the kernel can
    send what the loop printed next (stdout) before that newline: each keeps a line of its own, as
    in a terminal, and the late newline makes no empty line."""
    cell = CellText()
    cell.switch_to("stderr")
    assert cell.feed("\rbatches:   0%|          | 0/4\rbatches: 100%|##########| 4/4") == []
    assert cell.switch_to("stdout") == ("stderr", ["batches: 100%|##########| 4/4"])
    assert cell.feed("from a thread 190\nsum 190\n") == ["from a thread 190", "sum 190"]
    assert cell.switch_to("stderr") == ("stdout", [])  # nothing unfinished: nothing to end
    assert cell.feed("\n") == []  # the bar's own newline, already accounted for
    assert cell.feed("warning: more\n") == ["warning: more"]
    assert cell.switch_to("stdout") == ("stderr", []) and cell.feed("a") == [] and cell.live_line() == "a"



def _log_over_a_panel():
    """An app with the output log over a panel that opens under it (as the live plots do)."""
    from textual.app import App
    from textual.widgets import Static

    from tui.widgets.output import OutputLog

    class LogOverAPanel(App):
        CSS = "#panel { height: 11; display: none; } #panel.-shown { display: block; }"

        def compose(self):
            yield OutputLog()
            yield Static("panel", id="panel")

    return LogOverAPanel()


async def _written_and_shrunk(pilot, scroll_back) -> tuple[float, float]:
    """60 lines written to the log, `scroll_back(log)` done, then the panel opened: the log's
    scroll position before the panel opened and after the log got smaller."""
    from rich.text import Text

    from tests.helpers import wait_for
    from tui.widgets.output import OutputLog

    app = pilot.app
    log = app.query_one(OutputLog)
    for i in range(60):
        log.put(Text(f"line {i}"))
    assert await wait_for(pilot, lambda: len(log.lines) == 60 and log.max_scroll_y > 0)
    await pilot.pause()
    assert log.is_vertical_scroll_end
    scroll_back(log)
    await pilot.pause()
    before, rows = log.scroll_y, log.scrollable_content_region.height
    app.query_one("#panel").add_class("-shown")
    assert await wait_for(pilot, lambda: log.scrollable_content_region.height < rows)
    await pilot.pause()  # (the log's Resize handled)
    return before, log.scroll_y


def _wheel_up(log) -> None:
    from textual.events import MouseScrollUp

    log.post_message(MouseScrollUp(log, 5, 5, 0, -1, 0, False, False, False, screen_x=5, screen_y=5))


async def test_the_log_keeps_its_end_in_sight_when_a_panel_under_it_opens():
    from tests.helpers import running

    app = _log_over_a_panel()
    async with running(app, size=(80, 24)) as pilot:
        _before, _after = await _written_and_shrunk(pilot, lambda log: None)
        log = app.query_one("OutputLog")
        # the last line written stays the last line shown
        assert log.is_vertical_scroll_end, (log.scroll_y, log.max_scroll_y)
        assert log.auto_scroll


async def test_a_log_paged_back_stays_where_it_is_when_a_panel_under_it_opens():
    from tests.helpers import running

    app = _log_over_a_panel()
    async with running(app, size=(80, 24)) as pilot:
        before, after = await _written_and_shrunk(pilot, lambda log: log.page(-1))
        assert 0 < before < app.query_one("OutputLog").max_scroll_y
        assert after == before


async def test_a_log_scrolled_back_with_the_mouse_wheel_stays_where_it_is_when_it_shrinks():
    from tests.helpers import running

    app = _log_over_a_panel()
    async with running(app, size=(80, 24)) as pilot:
        before, after = await _written_and_shrunk(pilot, _wheel_up)
        log = app.query_one("OutputLog")
        assert 0 < before < log.max_scroll_y
        assert after == before
        assert not log.auto_scroll  # and new output does not pull the reader back down


def test_printed_escapes_other_than_colours_are_removed_before_drawing():
    from tui.widgets.output import ansi_text

    for printed, shown in [("a\x1bcb", "ab"), ("E\x1b#8F", "EF"), ("x\x1b(0y", "xy"), ("q\x1b[2Jw", "qw"),
                           ("\x1b]0;title\x07t", "t"), ("c1\x9b2J", "c12J"), ("end\x1b", "end"), ("cut\x1b[", "cut")]:
        assert ansi_text(printed).plain == shown, printed
    coloured = ansi_text("\x1b[1;32mok\x1b[0m\tfine")
    assert coloured.plain == "ok\tfine" and [str(span.style) for span in coloured.spans] == ["bold color(2)"]


def test_one_line_longer_than_the_head_keeps_its_first_and_last_characters():
    from tui.widgets.output import HEAD, TAIL, CellText

    for length in (150_000, 1_000_000):
        text = CellText()
        head = text.feed("".join(chr(97 + i % 26) for i in range(length)) + "\n")
        assert [len(line) for line in head] == [HEAD]
        tail = text.tail_lines()
        assert len(tail) == 1 and len(tail[0]) + text.cut + HEAD == length
        assert len(tail[0]) >= min(length - HEAD, TAIL - 1)
