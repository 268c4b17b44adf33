"""The Playground's output log: each cell's input, prints, value or error, bounded in lines."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import RichLog

MAX_LINES = 20_000


class OutputLog(RichLog):
    """A RichLog that knows how to write cells; the oldest lines drop off past MAX_LINES."""

    DEFAULT_CSS = """
    OutputLog { height: 1fr; border: none; background: $surface; padding: 0 1; overflow-x: hidden; }
    OutputLog:focus { background: $boost; }
    """

    def __init__(self) -> None:
        super().__init__(id="output", max_lines=MAX_LINES, wrap=True, markup=False, highlight=False, min_width=20)
        self._partial: dict[int, str] = {}

    def write_input(self, number: int, source: str) -> None:
        from rich.syntax import Syntax

        prompt = Text(f"In [{number}]: ", style="bold green")
        code = Syntax(source, "python", theme="ansi_dark", background_color="default", word_wrap=True)
        self.write(Group(prompt, code))

    def write_output(self, number: int, text: str) -> None:
        """Write printed text; an unfinished last line waits for its newline (or the cell's end)."""
        text = self._partial.pop(number, "") + text
        head, newline, tail = text.rpartition("\n")
        if newline:
            self.write(Text(head))
        if tail:
            self._partial[number] = tail

    def finish_output(self, number: int) -> None:
        rest = self._partial.pop(number, "")
        if rest:
            self.write(Text(rest))

    def write_result(self, result) -> None:
        self.finish_output(result.number)
        for stream, text in result.output:
            if stream == "note":
                self.write(Text(text.strip(), style="italic yellow"))
        if result.removed_control:
            self.write(Text("(terminal control codes in the output were removed)", style="italic dim"))
        if result.value is not None:
            self.write(Text.assemble((f"Out[{result.number}]: ", "bold red"), result.value))
        if result.summary:
            self.write(Text(result.summary, style="dim"))
        if result.error:
            self.write(Text(result.error, style="bold red" if result.interrupted else "red"))
        if result.hint:
            self.write(Text(result.hint, style="yellow"))
        if result.elapsed > 1:
            self.write(Text(f"({result.elapsed:.1f} s)", style="dim"))

    def write_note(self, text: str, style: str = "italic") -> None:
        self.write(Text(text, style=style))
