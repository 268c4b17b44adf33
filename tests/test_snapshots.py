"""Pictures of each screen at 80x24 (the size over SSH) and 120x40, in English and Chinese
(pytest-textual-snapshot). Refresh with --snapshot-update. The app runs on an in-process kernel
with the engine's own answers (its examples' recordings, its training run) and values shown as
the kernel shows them: the same pictures as with a kernel process."""

import pytest

from tests.engine_in_process import engine_kernel, engine_live, send_variables, serve_engine
from tests.helpers import log_text, screen_ready, wait_for
from tui.app import make_app


def engine_app(**options):
    kernel = engine_kernel()
    serve_engine(kernel)
    return make_app(kernel=kernel, **options)

SIZE = (80, 24)
EVERY = pytest.mark.parametrize("size,lang", [((80, 24), "en"), ((80, 24), "zh"), ((120, 40), "en"),
                                              ((120, 40), "zh")])


async def settle(pilot) -> None:
    """Wait for torch, then pin the version-dependent part of the status line."""
    app = pilot.app
    await screen_ready(pilot)
    # the kernel's news handled: the status line says its torch (which it would say after ours)
    await wait_for(pilot, lambda: app.kernel.ready and app.status_text.startswith("torch "), 60)
    app.status_text = "torch · cpu"
    from textual.widgets import Input, TextArea

    for field in app.screen.query(Input).results():
        field.cursor_blink = False  # a blinking cursor makes two pictures
    for field in app.screen.query(TextArea).results():
        field.cursor_blink = False
    await pilot.pause(0.2)


@EVERY
def test_playground(snap_compare, size, lang):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("ctrl+l")
        await pilot.press(*"torch.arange(6).reshape(2, 3)")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Out[1]" in log_text(pilot.app))
        await pilot.pause(0.3)

    assert snap_compare(engine_app(lang=lang), terminal_size=size, run_before=run_before)


@EVERY
def test_autograd_scalar(snap_compare, size, lang):
    async def run_before(pilot):
        await settle(pilot)
        await wait_for(pilot, lambda: pilot.app.screen.recording is not None)
        await pilot.press("n", "n", "n")
        await pilot.pause(0.2)

    assert snap_compare(engine_app(screen="autograd", lang=lang), terminal_size=size, run_before=run_before)


@EVERY
def test_training_form(snap_compare, size, lang):
    assert snap_compare(engine_app(screen="train", lang=lang), terminal_size=size, run_before=settle)


@EVERY
def test_learn_chapter_list(snap_compare, size, lang):
    assert snap_compare(engine_app(screen="learn", lang=lang), terminal_size=size, run_before=settle)


def test_help(snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause(0.2)

    assert snap_compare(engine_app(), terminal_size=SIZE, run_before=run_before)


async def picture(pilot) -> str:
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.2)
    return pilot.app.export_screenshot()


@EVERY
async def test_training_during_and_after_a_run(snapshot, size, lang):
    """One app start, three pictures: during a run (at 80x24 the form folds; then ctrl+b brings it
    back: every panel open), and after it. The numbers that move (the run's progress, its timing)
    are set to fixed ones once the run is paused."""
    from dataclasses import replace

    from pytest_textual_snapshot import SVGImageExtension

    from engine.tasks.regression import RegressionProgress
    from engine.training import Progress
    from tests.helpers import running, start_long_run

    svg = snapshot.use_extension(SVGImageExtension)
    app = engine_app(screen="train", lang=lang)
    async with running(app, size=size) as pilot:
        await settle(pilot)
        screen = await start_long_run(pilot)
        await pilot.press("f6")
        assert await wait_for(pilot, lambda: screen.paused, 30)
        screen.handle_kernel_news = lambda news: None  # nothing the paused run still sends moves the picture
        screen.latest = Progress(40, 100000, 50000, 114.5, 25000.0, 4.0, True, RegressionProgress((42.1,), 0.9))
        screen.loss_history = [2000.0 / (1 + i) + 114 for i in range(40)]
        screen._plotted_at = screen._key_at = 0.0
        screen.dirty = True
        screen._redraw()
        assert await picture(pilot) == svg(name="during")
        if size == (80, 24):
            await pilot.press("ctrl+b")
            assert await picture(pilot) == svg(name="during_form_open")
            await pilot.press("ctrl+b")
        del screen.handle_kernel_news  # the stopped run's end must arrive
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: screen.result is not None, 60)
        frozen = replace(screen.result, seconds=1.5, samples_per_s=25000.0, epochs=40, steps=50000,
                         final_loss=114.5, metrics=replace(screen.result.metrics, weight=(42.1,), bias=0.9), stopped=True,
                         loss_history=tuple(2000.0 / (1 + i) + 114 for i in range(40)))
        screen._finished(screen.run_id, frozen)
        assert await picture(pilot) == svg(name="after")


@EVERY
async def test_playground_with_every_panel_open(snapshot, size, lang, monkeypatch):
    """The Playground with a few tensors in the namespace, the variables pane shown (F6 brings it
    back at 80 columns, where it starts folded) and the live panel open after a short live() loop.
    Every value is fixed (no random data), and the cell is quick: no time is shown."""
    from pytest_textual_snapshot import SVGImageExtension

    from tests.helpers import running
    from tests.test_zh import screen_lines

    svg = snapshot.use_extension(SVGImageExtension)
    # the variables the extension sends after each cell, and the engine's own live()
    kernel = engine_kernel()
    serve_engine(kernel)  # the details of the highlighted variable
    send_variables(kernel)
    engine_live(kernel, monkeypatch)
    app = make_app(lang=lang, kernel=kernel)
    async with running(app, size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.run_source("x = torch.arange(6.0).reshape(2, 3)\n"
                          "w = torch.ones(3, requires_grad=True)\n"
                          "mask = x > 2\n"
                          "for step in range(20):\n"
                          "    live(loss=10 / (step + 1), accuracy=step / 20)")
        assert await wait_for(pilot, lambda: screen.live is not None and "accuracy" in screen.live.series
                              and screen.live.series["accuracy"].count == 20, 60), log_text(app)[-800:]
        assert await wait_for(pilot, lambda: app.kernel.running is None and not app.kernel.queued, 30)
        if screen.has_class("-vars-folded"):
            await pilot.press("f6")
        assert await wait_for(pilot, lambda: not screen.has_class("-vars-folded"), 10)

        def plotted() -> list[str]:  # one plot per PLOT_MIN_WIDTH columns: at 80 beside the pane, one
            titles = [str(plot.title) for plot in screen.live.query("LossPlot")]
            return titles if not screen.live.dirty and titles == ["loss", "accuracy"][:len(titles)] else []

        assert await wait_for(pilot, lambda: bool(plotted()), 10)
        app.clear_notifications()  # (live.appeared: a toast that would time out)
        assert await wait_for(pilot, lambda: "mask" in "\n".join(screen_lines(app)), 20)  # the pane drawn
        assert await picture(pilot) == svg(name="open")
