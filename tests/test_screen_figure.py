"""f8: the full-screen figure view, in pixels where the terminal draws them."""

from __future__ import annotations

from tests.helpers import running, wait_for
from tui.app import make_app
from tui.kernel.fake import FakeKernel


def tiny_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (240, 80), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_pixel_graphics_are_asked_for_only_where_an_answer_is_likely():
    from tui.graphics import worth_asking

    assert worth_asking({"TERM": "xterm-kitty"}, True)
    assert worth_asking({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, True)
    assert not worth_asking({"TERM": "xterm-kitty"}, False)  # not a terminal: nothing to ask
    assert not worth_asking({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"}, True)
    assert not worth_asking({"TERM": "screen-256color", "KITTY_WINDOW_ID": "1"}, True)
    assert not worth_asking({"TERM": "xterm-256color"}, True)  # most terminals: half-blocks, no delay
    assert worth_asking({"TERM": "xterm-256color", "TORCHTUI_GRAPHICS": "1"}, True)
    assert not worth_asking({"TERM": "xterm-kitty", "TORCHTUI_GRAPHICS": "0"}, True)


async def test_the_figure_view_draws_with_textual_image_when_the_terminal_draws_pixels(monkeypatch):
    from textual_image.widget import UnicodeImage

    from tui import graphics

    monkeypatch.setattr(graphics, "_WIDGET", [UnicodeImage])  # what prepare() finds in a pixel terminal
    png = tiny_png()
    app = make_app(kernel=FakeKernel())
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        app.screen.output.figures.append(png)
        await pilot.press("f8")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "FigureView", 5)
        view = app.screen.query_one("#figure")
        assert isinstance(view, UnicodeImage) and view.image is not None
        await pilot.press("escape")
