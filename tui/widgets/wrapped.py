"""Text that Rich and Textual show broken into lines the Chinese way (engine.textwrap_cjk) rather
than at spaces: a Rich renderable, broken again at whatever width it is drawn (a resize, a table
column), styles kept."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from engine.textwrap_cjk import line_spans, max_width, min_width


def wrapped_lines(text: Text, width: int, hang: int | None = None) -> list[Text]:
    """`text` broken into lines of at most `width` cells, each a Text with the styles it had."""
    spans = line_spans(text.plain, width, hang)
    lines = []
    for start, end, indent in spans:
        line = text[start:end]
        if indent:
            line = Text(" " * indent, style=text.style) + line
        lines.append(line)
    return lines


class Wrapped:
    """A Rich renderable of `text` (a str, with `style`, or a Text) broken into lines at the width
    it is given; `hang`: how many characters later lines hang under (default: a bullet's)."""

    def __init__(self, text: str | Text, style: str = "", hang: int | None = None) -> None:
        self.text = Text(text, style=style) if isinstance(text, str) else text
        self.hang = hang

    @property
    def plain(self) -> str:
        return self.text.plain

    def lines(self, width: int) -> list[Text]:
        return wrapped_lines(self.text, width, self.hang)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        shown = Text("\n", style=self.text.style).join(self.lines(options.max_width))
        shown.no_wrap = True  # broken already: Rich must not break it again at its spaces
        shown.overflow = "crop"
        shown.end = self.text.end
        yield shown

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        plain = self.text.plain
        return Measurement(min_width(plain), max_width(plain)).clamp(max_width=options.max_width)

    def __str__(self) -> str:
        return self.text.plain
