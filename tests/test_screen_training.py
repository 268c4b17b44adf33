"""F4 Training: runs in the kernel while the plots stay live; divergence, folding, several ranks."""

from __future__ import annotations

import pytest

from tests.helpers import running, start_long_run, static_text, wait_for
from tui.app import make_app

pytestmark = pytest.mark.slow  # the app and its kernel


async def test_training_runs_and_summarises():
    app = make_app(screen="train")
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        epochs = screen.query_one("#f-epochs")
        epochs.value = "0"
        await pilot.pause(0.05)
        assert "epochs" in static_text(screen.query_one("#tr-form-error"))
        epochs.value = "30"
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: screen.result is not None, 120)
        status = static_text(screen.query_one("#tr-status"))
        assert "Done: 30 epochs" in status and "optimum" in status
        assert len(screen.loss_history) == 30


async def test_a_run_ends_with_its_kernel():
    app = make_app(screen="train")
    async with running(app, size=(80, 24)) as pilot:
        screen = await start_long_run(pilot)
        await app.kernel.restart()
        assert await wait_for(pilot, lambda: not screen.running, 30)
        assert "ended with its kernel" in static_text(screen.query_one("#tr-status"))


async def test_training_on_two_processes_shows_the_ranks_and_the_equal_weights():
    from helpers import static_text

    app = make_app(screen="train", device="cpu")
    async with running(app, size=(100, 40)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.ready and app.kernel.ready, 60)
        screen.query_one("#f-processes").value = "2"
        screen.query_one("#f-epochs").value = "8"
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: screen.result is not None or not screen.running, 180)
        status = static_text(screen.query_one("#tr-status"))
        assert screen.result is not None, status
        assert "2 ranks (gloo)" in status and "batch 2 × 16 = 32" in status
        assert "weights equal (max difference 0)" in status
        assert "one process with batch 32 on the same order: the same weights" in status
        assert screen.result.epochs == 8
        # the model, rebuilt in the kernel from rank 0's weights, is there for the Playground
        details = await app.kernel.request("details", name="trained_model")
        assert details is not None and "Linear" in str(details)


async def test_a_diverged_run_says_so_and_does_not_set_the_next_runs_scale():
    from tests.helpers import static_text

    app = make_app(screen="train")
    async with running(app, size=(100, 40)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.ready and app.kernel.ready, 60)
        screen.query_one("#f-lr").value = "5"
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: not screen.running and screen.latest is not None, 60)
        await pilot.pause(0.5)  # redraw ticks come and go: the verdict stays
        status = static_text(screen.query_one("#tr-status"))
        assert "diverged" in status and "epoch" in status and "step" in status and "lower learning rate" in status
        # the fit keeps the data's scale: the runaway line does not stretch it
        fit = screen.query_one("#fit-plot").render().plain.splitlines()
        labels = [line.split("┤")[0].strip() for line in fit if "┤" in line]
        assert labels and all(len(label) <= 8 for label in labels), labels
        assert max(abs(float(label)) for label in labels) < 1000, labels
        screen.query_one("#f-lr").value = "0.01"
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: screen.result is not None, 60)
        await pilot.pause(0.3)
        plot = screen.query_one("#loss-plot").render().plain.splitlines()
        labels = [line.split("┤")[0].strip() for line in plot if "┤" in line]
        assert labels and all(len(label) <= 8 for label in labels), labels
        assert max(float(label) for label in labels) < 5000  # this run's scale, not the diverged one's


async def test_a_run_at_80x24_folds_the_form_so_each_plot_gets_8_rows_and_says_the_time_left():
    from engine.training import Progress
    from tests.helpers import static_text
    from tui.kernel.events import KernelNews

    app = make_app(screen="train")
    async with running(app, size=(80, 24)) as pilot:
        screen = await start_long_run(pilot)
        await pilot.pause(0.3)
        assert screen.has_class("-form-folded")
        assert "epochs 100000" in static_text(screen.query_one("#tr-summary"))
        for plot in ("#loss-plot", "#fit-plot"):
            assert screen.query_one(plot).size.height >= 8, plot
        # a run past 5 s says how long it has left
        screen.handle_kernel_news(KernelNews("train_progress", {
            "run": screen.run_id, "progress": Progress(10, 100, 50, 1.0, (1.0,), 0.0, 100.0, 12.0, True)}))
        screen._redraw()
        assert "about 108 s left" in static_text(screen.query_one("#tr-status"))
        await pilot.press("ctrl+b")
        assert not screen.has_class("-form-folded") and app.focused is screen.query_one("#f-samples")
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: not screen.running, 30)


async def test_each_f6_pauses_or_resumes_once_and_the_status_line_says_which():
    from tui.kernel.events import KernelNews

    app = make_app(screen="train")
    async with running(app, size=(100, 40)) as pilot:
        screen = await start_long_run(pilot)
        status = screen.query_one("#tr-status")

        def says_paused() -> bool:
            return "paused" in static_text(status)

        for _ in range(2):  # pause, resume, pause, resume
            await pilot.press("f6")
            assert await wait_for(pilot, says_paused, 30), static_text(status)
            # progress the kernel sent just before the pause took effect arrives after it: still paused
            screen.handle_kernel_news(KernelNews("train_progress", {
                "run": screen.run_id, "progress": screen.latest, "paused": False}))
            assert await wait_for(pilot, lambda: not screen.dirty, 30)
            assert says_paused(), static_text(status)
            step = screen.latest.step
            await pilot.press("f6")
            # running again: new steps come, and the status line no longer says paused
            assert await wait_for(pilot, lambda step=step: screen.latest.step > step and not says_paused(), 30), \
                static_text(status)
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: not screen.running, 30)


async def test_the_previous_curve_is_this_tasks_last_run_and_the_x_axis_this_runs_epochs():
    from tests.helpers import x_labels

    app = make_app(screen="train")
    async with running(app, size=(100, 40)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.ready and app.kernel.ready, 60)
        plot = screen.query_one("#loss-plot")

        async def train(epochs: int) -> None:
            screen.query_one("#f-epochs").value = str(epochs)
            await pilot.pause(0.05)
            await pilot.press("ctrl+r")
            assert await wait_for(pilot, lambda: screen.result is not None, 120), static_text(
                screen.query_one("#tr-status"))
            assert screen.result.epochs == epochs

        await train(100)  # the regression: a loss in the hundreds, 100 epochs
        screen.query_one("#f-task").value = "moons"
        await pilot.pause(0.05)
        await train(30)
        # the first moons run has no previous run of its own: the regression's curve is not drawn
        assert "previous" not in plot.render().plain
        assert x_labels(plot)[-1] == 30  # this run's epochs, not the regression's 100
        first_moons = list(screen.loss_history)
        await train(20)
        assert "previous" in plot.render().plain and plot.previous == first_moons
        assert x_labels(plot)[-1] == 20  # the 30-epoch previous run is cut at 20
        assert x_labels(screen.query_one("#acc-plot"))[-1] == 20
