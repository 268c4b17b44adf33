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
