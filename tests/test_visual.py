"""See it: matplotlib figures drawn in the output log, %plot, and live() from your own loop."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import log_text, wait_for
from tui.app import make_app

# The seed's last program, its way: a loss curve and the fit side by side, Chinese titles, SimHei.
SEED_PROGRAM = (Path(__file__).parent / "programs" / "seed_linear_regression_plot.py").read_text()


async def test_the_seed_program_as_one_cell_draws_its_figure_in_the_log(tmp_path):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
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
        await pilot.pause(0.2)
        assert (tmp_path / "fig.png").read_bytes() == output.figures[0]


def plain(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_plot_draws_1d_as_a_line_2d_as_a_heatmap_and_hist_with_shape_dtype_and_range(kernel):
    import torch

    line = kernel.run("%plot torch.linspace(-2, 5, 300) ** 2")
    assert line.ok, line.text()
    text = plain(line.output)
    assert "(300,) float32 cpu · 0" in text and "25" in text and "index" in text
    assert max(len(row) for row in text.splitlines()) <= 80
    assert any(ch in text for ch in "⠁⠂⠄⡀⢀⣀")  # drawn in braille dots

    grid = kernel.run("g = torch.arange(12.).reshape(3, 4)\n%plot g")
    assert grid.ok, grid.text()
    text = plain(grid.output)
    assert "g · (3, 4) float32 cpu · 0 … 11" in text and "rows 3 × columns 4" in text
    # a heatmap: every cell filled, darker to lighter as values grow (grey levels in the colours)
    greys = [int(m) for m in __import__("re").findall(r"38;2;(\d+);\1;\1m█", grid.output)]
    assert greys and min(greys) < 60 and max(greys) > 200

    hist = kernel.run("%plot torch.randn(5000, generator=torch.Generator().manual_seed(0)) --hist --bins 20")
    assert hist.ok, hist.text()
    assert "(5000,) float32" in plain(hist.output) and "value" in plain(hist.output)
    del torch


def test_plot_counts_nan_and_inf_and_handles_ints_empty_and_bad_input(kernel):
    holes = kernel.run("%plot torch.tensor([1., float('nan'), 3., float('inf'), 2.])")
    assert holes.ok and "2 NaN/Inf values left out" in plain(holes.output) and "1 … 3" in plain(holes.output)
    ints = kernel.run("%plot torch.arange(10)")
    assert ints.ok and "(10,) int64 cpu · 0 … 9" in plain(ints.output)
    for source, needle in [("%plot torch.zeros(0)", "is empty"),
                           ("%plot torch.ones(2, 3, 4)", "pick a slice such as"),
                           ("%plot torch.tensor(float('nan')).expand(3)", "only NaN or Inf"),
                           ("%plot not_defined_here", "NameError"),
                           ("%plot 'text'", "not a tensor"),
                           ("%plot", "usage: %plot EXPR"),
                           ("%plot x --colour red", "unknown option --colour")]:
        cell = kernel.run(source)
        assert needle in cell.error_text, (source, cell.text())
        assert "Traceback" not in cell.error_text and cell.error_text.count("\n") <= 2, cell.error_text


async def test_live_from_a_10000_step_loop_delivers_every_step_and_draws_under_the_log(tmp_path):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
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
        await pilot.pause(0.3)
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


def test_live_says_what_it_takes(kernel):
    for source, needle in [("live(loss=torch.ones(3))", "pass loss.mean() or loss.item()"),
                           ("live(name='text')", "not str")]:
        cell = kernel.run(source)
        assert needle in cell.error_text, cell.text()


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
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        app.screen.output.figures.append(png)
        await pilot.press("f8")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "FigureView", 5)
        view = app.screen.query_one("#figure")
        assert isinstance(view, UnicodeImage) and view.image is not None
        await pilot.press("escape")


def tiny_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (240, 80), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


async def test_a_script_run_with_percent_run_can_call_live(tmp_path):
    script = tmp_path / "loop.py"
    script.write_text("import torch\nfor i in range(200):\n    live(acc=torch.tensor(i / 200))\n")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen = app.screen
        screen.run_source(f"%run {script}")
        assert await wait_for(pilot, lambda: screen.live is not None and "acc" in screen.live.series
                              and screen.live.series["acc"].count == 200, 30), log_text(app)[-800:]
        assert abs(screen.live.series["acc"].last - 199 / 200) < 1e-6  # a float32 tensor
