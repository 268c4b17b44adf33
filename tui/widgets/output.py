"""The Playground's output log: each cell's input, printed text, values, errors and help pages.

Printed text is shown as a terminal would: colours from ANSI codes are drawn (other escape codes
are dropped), a carriage return rewrites the line (a tqdm bar is one line that updates, shown in
the live line under the log until its newline comes), and a cell that prints more than MAX_OUTPUT
characters keeps its head and its tail with a note of what was cut between them.
"""

from __future__ import annotations

import re
from collections import deque

from rich.console import Group
from rich.text import Text
from textual.widgets import RichLog, Static

MAX_LINES = 20_000
MAX_OUTPUT = 200_000  # characters of one cell's printed text that are kept
HEAD = MAX_OUTPUT // 2
SGR_OR_TEXT = re.compile(r"(\x1b\[[0-9;]*m)")
OTHER_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-ln-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")


def ansi_text(text: str, style: str = "") -> Text:
    """Rich text from terminal output: colours kept, cursor moves and other control codes removed."""
    text = CONTROL.sub("", OTHER_ESCAPES.sub("", text))
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
    """Printed text of one cell: complete lines go to the log, the unfinished line stays live."""

    def __init__(self) -> None:
        self.partial = ""
        self.size = 0  # characters received
        self.tail: deque[str] = deque()  # lines after the head was full
        self.tail_size = 0
        self.cut = 0

    def feed(self, text: str) -> list[str]:
        """Lines ready to write now (in the head); the rest waits in `partial` or the tail."""
        self.size += len(text)
        text = (self.partial + text).replace("\r\n", "\n")
        *lines, self.partial = text.split("\n")
        self.partial = self.partial[-4000:]  # a bar that never ends its line stays bounded
        ready = []
        for raw in lines:
            line = overwrite(raw)
            if self.size - len(self.partial) <= HEAD and not self.tail:
                ready.append(line)
            else:
                self._keep_tail(line)
        return ready

    def _keep_tail(self, line: str) -> None:
        self.tail.append(line)
        self.tail_size += len(line) + 1
        while self.tail_size > MAX_OUTPUT - HEAD and len(self.tail) > 1:
            dropped = self.tail.popleft()
            self.tail_size -= len(dropped) + 1
            self.cut += len(dropped) + 1

    def live_line(self) -> str:
        return overwrite(self.partial)


class OutputLog(RichLog):
    """A RichLog that knows how to write cells; the oldest lines drop off past MAX_LINES."""

    DEFAULT_CSS = """
    OutputLog { height: 1fr; border: none; background: $surface; padding: 0 1; overflow-x: hidden; }
    OutputLog:focus { background: $boost; }
    """

    def __init__(self) -> None:
        super().__init__(id="output", max_lines=MAX_LINES, wrap=True, markup=False, highlight=False, min_width=20)
        self.cells: dict[str, CellText] = {}
        self.live: Static | None = None  # the line under the log that shows an unfinished line

    def write_input(self, number: int, source: str) -> None:
        from rich.syntax import Syntax

        prompt = Text(f"In [{number}]: ", style="bold green")
        code = Syntax(source, "python", theme="ansi_dark", background_color="default", word_wrap=True)
        self.write(Group(prompt, code))

    def write_output(self, cell: str, text: str, stream: str = "stdout") -> None:
        """Printed text of a running cell."""
        state = self.cells.setdefault(cell, CellText())
        lines = state.feed(text)
        style = "red" if stream == "stderr" else ""
        if lines:
            self.write(ansi_text("\n".join(lines), style))
        self._show_live(state.live_line())

    def _show_live(self, line: str) -> None:
        if self.live is not None:
            self.live.update(ansi_text(line[-400:]) if line else "")

    def finish_output(self, cell: str) -> None:
        """The cell ended: write its last unfinished line, and the tail after a note of what was cut."""
        state = self.cells.pop(cell, None)
        self._show_live("")
        if state is None:
            return
        if state.tail:
            skipped = state.size - HEAD - state.tail_size - len(state.partial)
            self.write(Text(f"… {max(skipped, state.cut):,} characters of output not shown "
                            f"(a cell keeps the first and last {HEAD:,}) …", style="italic yellow"))
            self.write(ansi_text("\n".join(state.tail)))
        if state.partial:
            self.write(ansi_text(state.live_line()))

    def write_value(self, number: int | None, data: dict) -> None:
        """A value (Out[n]) or other display data, with the tensor summary when there is one."""
        from tui.kernel.display import summary_line, text_of

        text = text_of(data)
        if number is not None:
            self.write(Text.assemble((f"Out[{number}]: ", "bold red"), ansi_text(text)))
        elif text:
            self.write(ansi_text(text))
        summary = summary_line(data)
        if summary:
            self.write(Text(summary, style="dim"))

    def write_page(self, data: dict) -> None:
        """Help from `obj?` or `obj??`."""
        from tui.kernel.display import text_of

        self.write(ansi_text(text_of(data)))

    def write_error(self, traceback: tuple[str, ...], ename: str, evalue: str, hint: str = "") -> None:
        text = "\n".join(traceback) if traceback else f"{ename}: {evalue}"
        self.write(ansi_text(text, "red"))
        if hint:
            self.write(Text(hint, style="yellow"))

    def write_note(self, text: str, style: str = "italic") -> None:
        self.write(Text(text, style=style))
