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
