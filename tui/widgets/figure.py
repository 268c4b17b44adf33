"""A PNG (a matplotlib figure a cell made) drawn with half-block characters: each cell shows two
pixels, the upper one as the foreground of `▀` and the lower one as its background. It needs
nothing from the terminal but colour, so it works in tmux, over SSH and in a browser."""

from __future__ import annotations

import base64
import io

from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style

CELL_ASPECT = 2.0  # a terminal cell is about twice as tall as it is wide


def png_of(data: dict) -> bytes | None:
    """The PNG bytes of a mime bundle, or None."""
    encoded = data.get("image/png")
    if not isinstance(encoded, str):
        return None
    try:
        return base64.b64decode(encoded)
    except ValueError:
        return None


class HalfBlocks:
    """A rich renderable of a PNG, as wide as it may be (at most `max_rows` rows high)."""

    def __init__(self, png: bytes, max_rows: int | None = None) -> None:
        from PIL import Image

        with Image.open(io.BytesIO(png)) as image:
            self.image = image.convert("RGB")
        self.max_rows = max_rows

    def size_for(self, width: int) -> tuple[int, int]:
        """(columns, rows) the picture takes at most `width` columns wide."""
        w, h = self.image.size
        columns = max(1, min(width, w))
        rows = max(1, round(columns * h / w / CELL_ASPECT))
        if self.max_rows is not None and rows > self.max_rows:
            rows = self.max_rows
            columns = max(1, min(columns, round(rows * CELL_ASPECT * w / h)))
        return columns, rows

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        columns, _ = self.size_for(options.max_width)
        return Measurement(columns, columns)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from PIL import Image

        columns, rows = self.size_for(options.max_width)
        pixels = self.image.resize((columns, rows * 2), Image.Resampling.LANCZOS).convert("RGB").load()
        assert pixels is not None  # (an image in memory always has its pixels)
        for row in range(rows):
            for x in range(columns):
                upper, lower = pixels[x, 2 * row], pixels[x, 2 * row + 1]
                assert isinstance(upper, tuple) and isinstance(lower, tuple)  # (RGB: three channels)
                yield Segment("▀", Style(color=Color.from_rgb(*upper[:3]), bgcolor=Color.from_rgb(*lower[:3])))
            yield Segment.line()
