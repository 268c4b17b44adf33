"""The Playground's output log: each cell's input, printed text, values, errors and help pages.

Printed text is shown as a terminal would: colours from ANSI codes are drawn (other escape codes
are dropped), a carriage return rewrites the line (a tqdm bar is one line that updates, shown in
the live line under the log until its newline comes), and a cell that prints more than MAX_OUTPUT
characters keeps its head and its tail with a note of what was cut between them.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import RichLog, Static

from tui.i18n import t
from tui.long_lived import freeze_long_lived
from tui.widgets.wrapped import Wrapped

MAX_LINES = 20_000
MAX_MARKS = 2_000  # cells remembered for jumping
MAX_FIGURES = 50  # figures kept for the full-screen view and for saving
FIGURE_MAX_ROWS = 30
MAX_OUTPUT = 200_000  # characters of one cell's printed text that are kept
HEAD = MAX_OUTPUT // 2
TAIL = MAX_OUTPUT - HEAD
PARTIAL = 4000  # a line that never ends (a progress bar) keeps this much
LINES_PER_TICK = 400  # lines the log renders in one go; more wait for the next tick
TICK_S = 0.03
FREEZE_AFTER = 100  # lines written in one go after which they are moved out of the collector's sight
SGR_OR_TEXT = re.compile(r"(\x1b\[[0-9;]*m)")
OTHER_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-ln-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\x80-\x9f]")  # C0 and C1, but \t \n \r ESC
# Any escape left once colours are read: a reset (ESC c), a screen test (ESC # 8), a charset
# switch (ESC ( 0), and an ESC with nothing after it. None may reach the terminal.
STRAY_ESCAPES = re.compile(r"\x1b(?!\[)(?:[ -/]*[0-~])?|\x1b\[(?![0-9;]*m)")


def ansi_text(text: str, style: str = "") -> Text:
    """Rich text from terminal output: colours kept, cursor moves and other control codes removed."""
    text = CONTROL.sub("", STRAY_ESCAPES.sub("", OTHER_ESCAPES.sub("", text)))
    rendered = Text.from_ansi(text, style=style) if "\x1b" in text else Text(text, style=style)
    rendered.end = ""
    return rendered


def overwrite(line: str) -> str:
    """What a terminal shows for a line with carriage returns: each \\r goes back to its start and
    the text after it writes over what was there."""
    if "\r" not in line:
        return line
    shown = ""
    for part in line.split("\r"):
        shown = part + shown[len(part):]
    return shown


class CellText:
    """Printed text of one cell: complete lines go to the log while the head has room; after that
    only the last TAIL characters are kept (as one string: a cell printing without end costs a
    slice, not a loop over its lines); the unfinished last line stays live."""

    def __init__(self) -> None:
        self.partial = ""  # the unfinished last line
        self.head_left = HEAD  # characters the head may still show
        self.tail = ""  # complete lines that came after the head was full, the newest TAIL characters
        self.cut = 0  # characters dropped between the head and the tail
        self.stream = "stdout"  # the stream the unfinished line came from
        self.owed: set[str] = set()  # streams whose line was ended for them: their next newline is dropped

    def switch_to(self, stream: str) -> tuple[str, list[str]]:
        """`stream` writes next. If the unfinished line is another stream's, it ends here: the
        kernel sends stdout and stderr apart, so a tqdm bar's closing newline (stderr) can come
        after what the loop printed next (stdout), which a terminal shows on lines of their own.
        Returns that stream and the lines to write for it (none when nothing was ended)."""
        other = self.stream
        self.stream = stream
        if other == stream or not self.partial:
            return other, []
        self.owed.add(other)
        return other, self.feed("\n")

    def feed(self, text: str) -> list[str]:
        """Lines to write to the log now; the rest waits in the tail or the live line."""
        if self.stream in self.owed:  # its line was ended already: the newline that ends it is not another
            self.owed.discard(self.stream)
            text = text[1:] if text.startswith("\n") else text
        text = self.partial + text
        end = text.rfind("\n")
        if end < 0:
            self.partial = text[-PARTIAL:]
            return []
        complete, self.partial = text[:end].replace("\r\n", "\n"), text[end + 1:][-PARTIAL:]
        ready: list[str] = []
        if self.head_left > 0:
            if len(complete) < self.head_left:
                self.head_left -= len(complete) + 1
                return [overwrite(line) for line in complete.split("\n")]
            # The head ends at a line's end near its room's end, else (a line far longer than
            # the room) inside that line, which goes on in the tail.
            fits = complete.rfind("\n", max(0, self.head_left - PARTIAL), self.head_left)
            end = fits if fits >= 0 else self.head_left
            ready = [overwrite(line) for line in complete[:end].split("\n")]
            complete = complete[end + 1 if fits >= 0 else end:]
            self.head_left = 0
        self.tail += complete + "\n"
        if len(self.tail) > TAIL:
            # at a line's start near the last TAIL characters' start, else inside the long line
            # there (never at the newline that ends the tail: that would keep nothing)
            ideal = len(self.tail) - TAIL
            start = self.tail.find("\n", ideal, min(ideal + PARTIAL, len(self.tail) - 1))
            start = start + 1 if start >= 0 else ideal
            self.cut += start
            self.tail = self.tail[start:]
        return ready

    def tail_lines(self) -> list[str]:
        return [overwrite(line) for line in self.tail[:-1].split("\n")] if self.tail else []

    def live_line(self) -> str:
        return overwrite(self.partial)


def stylize(strip: Strip, span: tuple[int, int], style: Style) -> Strip:
    """`strip` with characters start..end (end -1: to the end of the line) drawn in `style`."""
    start, end = span
    segments: list[Segment] = []
    x = 0
    for text, seg_style, control in strip:
        n = len(text)
        a = min(max(start - x, 0), n)
        b = n if end == -1 else min(max(end - x, 0), n)
        if a >= b or control:
            segments.append(Segment(text, seg_style, control))
        else:
            picked = (seg_style + style) if seg_style else style
            segments.extend(Segment(part, part_style) for part, part_style in
                            ((text[:a], seg_style), (text[a:b], picked), (text[b:], seg_style)) if part)
        x += n
    return Strip(segments, strip.cell_length)


class OutputLog(RichLog):
    """A RichLog that knows how to write cells; the oldest lines drop off past MAX_LINES."""

    DEFAULT_CSS = """
    OutputLog { height: 1fr; border: none; background: $surface; padding: 0 1; overflow-x: hidden; }
    OutputLog:focus { background: $boost; }
    """

    class Width(Message):
        """The log's text width changed (the kernel prints tensors to fit it)."""

        def __init__(self, width: int) -> None:
            super().__init__()
            self.width = width

    def __init__(self) -> None:
        super().__init__(id="output", max_lines=MAX_LINES, wrap=True, markup=False, highlight=False, min_width=20)
        self.cells: dict[str, CellText] = {}
        self.live: Static | None = None  # the line under the log that shows an unfinished line
        self._live_shown = ""
        self._waiting: deque[tuple[Any, int, tuple[int, str] | None]] = deque()  # (renderable, lines, mark) not yet rendered
        self._budget = LINES_PER_TICK  # lines that may still be rendered in this tick
        self._refill: Any = None  # the timer that starts the next tick
        self._unfrozen = 0  # lines written since the last gc.freeze()
        self._shown_rows: int | None = None  # the lines shown at once, as of the last resize
        # (cell number, the session's id of the cell, the first line of its In [n])
        self.marks: list[tuple[int, str, object]] = []
        self.figures: list[bytes] = []  # the PNGs drawn, newest last (for the full-screen view)

    def on_resize(self, event) -> None:
        self.post_message(self.Width(self.scrollable_content_region.width))
        shown: int | None = self._shown_rows
        rows = self._shown_rows = self._rows()
        if shown is not None and rows < shown and self.auto_scroll \
                and self.scroll_y >= self.virtual_size.height - shown:
            # Smaller (the live plots opened under it, a shorter terminal): Textual keeps the top line
            # where it was, which would leave the last lines out of sight below until more output
            # came. A log that showed its end keeps showing it; one scrolled back stays put.
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _rows(self) -> int:
        """The lines the log shows at once (the height max_scroll_y is measured against)."""
        return self.container_size.height - self.scrollbar_size_horizontal

    def on_mouse_scroll_up(self, _event) -> None:
        self.call_later(self._follow_if_at_end)

    def on_mouse_scroll_down(self, _event) -> None:
        self.call_later(self._follow_if_at_end)

    def _follow_if_at_end(self) -> None:
        # After the wheel has moved the view: scrolled back, new output leaves it there (as after
        # PgUp); back at the end, it follows again.
        self.auto_scroll = self.is_vertical_scroll_end

    # --- selecting text with the mouse (RichLog has no selection of its own) -------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        strip = super().render_line(y)
        selection = self.text_selection
        if selection is not None and row < len(self.lines) and (span := selection.get_span(row)) is not None:
            strip = stylize(strip, span, self.screen.get_component_rich_style("screen--selection"))
        # (column, row) of each character: how the screen tells which text the mouse went over
        return strip.apply_offsets(scroll_x, row)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        text = "\n".join(strip.text.rstrip() for strip in self.lines)
        return selection.extract(text), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def put(self, renderable, lines: int = 1, mark: tuple[int, str] | None = None) -> None:
        """Write through a queue: rendering is paid per line, so at most LINES_PER_TICK lines are
        drawn per tick and a flood of output leaves time for keys in between. `mark`: this one-line
        renderable starts the cell `mark` names: (its number, the session's id of it), for jumping
        between cells and for knowing which one is on show (numbers repeat after a restart)."""
        self._waiting.append((renderable, lines, mark))
        self._drain()

    def _drain(self) -> None:
        wrote = False
        while self._waiting and self._budget > 0:
            renderable, lines, mark = self._waiting.popleft()
            self.write(renderable, scroll_end=False)
            if mark is not None and self.lines:
                self.marks.append((*mark, self.lines[-1]))
                del self.marks[:-MAX_MARKS]
            self._budget -= lines
            self._unfrozen += lines
            wrote = True
        if wrote and self.auto_scroll:  # not while the user reads further up (PgUp, a jump)
            # Scrolled now, not after the next refresh (RichLog's own way): a new line at the
            # bottom is then on screen one frame sooner.
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        if self._unfrozen >= FREEZE_AFTER:
            freeze_long_lived()  # the log's lines live until they scroll off
            self._unfrozen = 0
        if self._budget < LINES_PER_TICK and self._refill is None:
            self._refill = self.set_timer(TICK_S, self._next_tick)

    def _next_tick(self) -> None:
        self._refill = None
        self._budget = LINES_PER_TICK
        self._drain()

    def clear(self):
        self._waiting.clear()
        self.marks.clear()
        return super().clear()

    def cell_rows(self) -> list[tuple[int, int]]:
        """(cell number, row in the log) of each cell still in the log, in order."""
        rows = {id(strip): row for row, strip in enumerate(self.lines)}
        return [(number, rows[id(strip)]) for number, _, strip in self.marks if id(strip) in rows]

    def jump(self, step: int) -> int | None:
        """Scroll so that the next (step 1) or previous (-1) cell's In [n] is the top line; its number."""
        cells = self.cell_rows()
        top = round(self.scroll_y)
        if step > 0:
            later = [(n, row) for n, row in cells if row > top]
            target = later[0] if later else None
        else:
            earlier = [(n, row) for n, row in cells if row < top]
            target = earlier[-1] if earlier else (cells[0] if cells else None)
        if target is None:
            return None
        self.auto_scroll = False
        self.scroll_to(y=target[1], animate=False)
        return target[0]

    def page(self, step: int) -> None:
        """Page up (-1) or down (1); back at the bottom, new output follows again."""
        self.scroll_to(y=self.scroll_y + step * max(1, self.scrollable_content_region.height - 1), animate=False)
        self.auto_scroll = self.scroll_y >= self.max_scroll_y

    def top_cell(self) -> str | None:
        """The session's id of the cell whose input is at (or last above) the top of the view;
        None when none is."""
        top = round(self.scroll_y)
        rows = {id(strip): row for row, strip in enumerate(self.lines)}
        shown = [cell for _, cell, strip in self.marks if rows.get(id(strip), top + 1) <= top]
        return shown[-1] if shown else None

    def write_input(self, number: int, source: str, cell: str = "") -> None:
        from rich.syntax import Syntax

        self.auto_scroll = True  # a new cell: follow the output again
        prompt = Text(f"In [{number}]: ", style="bold green")
        code = Syntax(source, "python", theme="ansi_dark", background_color="default", word_wrap=True)
        self.put(prompt, 1, mark=(number, cell))
        self.put(code, source.count("\n") + 1)

    def write_output(self, cell: str, text: str, stream: str = "stdout") -> None:
        """Printed text of a running cell."""
        state = self.cells.setdefault(cell, CellText())
        other, ended = state.switch_to(stream)
        if ended:
            self.put(ansi_text("\n".join(ended), "red" if other == "stderr" else ""), len(ended))
        lines = state.feed(text)
        style = "red" if stream == "stderr" else ""
        for i in range(0, len(lines), LINES_PER_TICK // 2):
            chunk = lines[i:i + LINES_PER_TICK // 2]
            self.put(ansi_text("\n".join(chunk), style), len(chunk))
        self._show_live(state.live_line())

    def _show_live(self, line: str) -> None:
        # The live line sizes to its content: an update lays the screen out again, so an
        # unchanged one is left alone.
        if self.live is not None and line != self._live_shown:
            self._live_shown = line
            self.live.update(ansi_text(line[-400:]) if line else "")

    def finish_output(self, cell: str) -> None:
        """The cell ended: write its last unfinished line, and the tail after a note of what was cut."""
        state = self.cells.pop(cell, None)
        self._show_live("")
        if state is None:
            return
        if state.cut:
            self.put(Text(t("pg.output_cut", n=f"{state.cut:,}", head=f"{HEAD:,}", tail=f"{TAIL:,}"),
                          style="italic yellow"))
        tail = state.tail_lines()
        for i in range(0, len(tail), LINES_PER_TICK // 2):
            chunk = tail[i:i + LINES_PER_TICK // 2]
            self.put(ansi_text("\n".join(chunk)), len(chunk))
        if state.partial:
            self.put(ansi_text(state.live_line()))

    def write_value(self, number: int | None, data: dict) -> None:
        """A value (Out[n]) or other display data, with the tensor summary when there is one."""
        from tui.kernel.display import summary_line, text_of
        from tui.widgets.figure import HalfBlocks, png_of

        png = png_of(data)
        if png is not None:
            try:
                picture = HalfBlocks(png, max_rows=FIGURE_MAX_ROWS)
            except Exception:  # not a picture Pillow can read: said as text below
                picture = None
            if picture is not None:
                self.figures.append(png)
                del self.figures[:-MAX_FIGURES]
                rows = picture.size_for(self.scrollable_content_region.width or 76)[1]
                self.put(picture, rows)
                return
        text = text_of(data)
        lines = text.count("\n") + 1
        if number is not None and "\n" in text:
            # as IPython does: a value of several lines starts on its own line, so that each row
            # of a tensor printed to the log's width fits on one line
            self.put(Text(f"Out[{number}]:", style="bold red"))
            self.put(ansi_text(text), lines)
        elif number is not None:
            self.put(Text.assemble((f"Out[{number}]: ", "bold red"), ansi_text(text)), lines)
        elif text:
            self.put(ansi_text(text), lines)
        summary = summary_line(data)
        if summary:
            self.put(Text(summary, style="dim"))

    def write_page(self, data: dict) -> None:
        """Help from `obj?` or `obj??`."""
        from tui.kernel.display import text_of

        text = text_of(data)
        self.put(ansi_text(text), text.count("\n") + 1)

    def write_error(self, traceback: tuple[str, ...], ename: str, evalue: str, hint: str = "") -> None:
        text = "\n".join(traceback) if traceback else f"{ename}: {evalue}"
        self.put(ansi_text(text, "red"), text.count("\n") + 1)
        if hint:
            self.put(Wrapped(hint, style="yellow"))

    def write_note(self, text: str, style: str = "italic") -> None:
        # broken as Chinese and mixed text are (the log itself wraps at spaces only)
        self.put(Wrapped(text, style=style))
