"""F4 Training: runs in the kernel while the plots stay live; divergence, folding, several ranks.

The kernel is the in-process fake with the engine's own handlers (tests/engine_in_process.py):
the runs are the engine's, in a thread of the test process. Only the data-parallel runs are
slow: their ranks are processes."""

from __future__ import annotations

import pytest

from engine.protocol import DescribeVariable
from tests.engine_in_process import engine_app, ranks_app
from tests.helpers import running, start_long_run, static_text, wait_for


async def test_training_runs_and_summarises():
    app, _kernel = engine_app(screen="train")
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        epochs = screen.query_one("#f-epochs")
        epochs.value = "0"
        assert await wait_for(pilot, lambda: "epochs" in static_text(screen.query_one("#tr-form-error")), 10)
        epochs.value = "30"
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: screen.result is not None, 120)
        status = static_text(screen.query_one("#tr-status"))
        assert "Done: 30 epochs" in status and "optimum" in status
        assert len(screen.loss_history) == 30


async def test_a_run_ends_with_its_kernel():
    app, _kernel = engine_app(screen="train")
    async with running(app, size=(80, 24)) as pilot:
        screen = await start_long_run(pilot)
        await app.kernel.restart()
        assert await wait_for(pilot, lambda: not screen.running, 30)
        assert "ended with its kernel" in static_text(screen.query_one("#tr-status"))


@pytest.mark.slow  # the run's rank processes, each importing torch: a minute on a busy machine
async def test_training_on_two_processes_shows_the_ranks_and_the_equal_weights():
    from helpers import static_text

    app, _kernel = ranks_app(screen="train", device="cpu")
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
        details = await app.kernel.request(DescribeVariable("trained_model"))
        assert details is not None and "Linear" in str(details)


async def test_a_diverged_run_says_so_and_does_not_set_the_next_runs_scale():
    from tests.helpers import static_text

    app, _kernel = engine_app(screen="train")
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
        assert await wait_for(pilot, lambda: not screen.dirty, 10)  # the redraw tick has drawn the run's end
        plot = screen.query_one("#loss-plot").render().plain.splitlines()
        labels = [line.split("┤")[0].strip() for line in plot if "┤" in line]
        assert labels and all(len(label) <= 8 for label in labels), labels
        assert max(float(label) for label in labels) < 5000  # this run's scale, not the diverged one's


async def test_a_run_at_80x24_folds_the_form_so_each_plot_gets_8_rows_and_says_the_time_left():
    from engine.protocol import TrainProgress
    from engine.tasks.regression import RegressionProgress
    from engine.training import Progress
    from tests.helpers import static_text

    app, _kernel = engine_app(screen="train")
    async with running(app, size=(80, 24)) as pilot:
        screen = await start_long_run(pilot)
        assert await wait_for(pilot, lambda: screen.has_class("-form-folded")
                              and all(screen.query_one(p).size.height >= 8 for p in ("#loss-plot", "#fit-plot")), 10)
        assert screen.has_class("-form-folded")
        assert "epochs 100000" in static_text(screen.query_one("#tr-summary"))
        for plot in ("#loss-plot", "#fit-plot"):
            assert screen.query_one(plot).size.height >= 8, plot
        # a run past 5 s says how long it has left
        screen.handle_kernel_news(TrainProgress(screen.run_id, Progress(10, 100, 50, 1.0, 100.0, 12.0, True, RegressionProgress((1.0,), 0.0))))
        screen._redraw()
        assert "about 108 s left" in static_text(screen.query_one("#tr-status"))
        await pilot.press("ctrl+b")
        assert not screen.has_class("-form-folded") and app.focused is screen.query_one("#f-samples")
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: not screen.running, 30)


async def test_each_f6_pauses_or_resumes_once_and_the_status_line_says_which():
    from engine.protocol import TrainProgress

    app, _kernel = engine_app(screen="train")
    async with running(app, size=(100, 40)) as pilot:
        screen = await start_long_run(pilot)
        status = screen.query_one("#tr-status")

        def says_paused() -> bool:
            return "paused" in static_text(status)

        for _ in range(2):  # pause, resume, pause, resume
            await pilot.press("f6")
            assert await wait_for(pilot, says_paused, 30), static_text(status)
            # progress the kernel sent just before the pause took effect arrives after it: still paused
            screen.handle_kernel_news(TrainProgress(screen.run_id, screen.latest))
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

    app, _kernel = engine_app(screen="train")
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


def footer_actions(screen) -> list[str]:
    footer = screen.query("FittingFooter")
    return [getattr(key, "action", "") for key in footer.first().children] if footer else []


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_at_80x24_the_footer_shows_the_keys_of_the_moment_whole(lang):
    """Idle: start. During a run (the form folded): pause, stop and the form's key. After: export
    and the form's key. Each key whole: the footer leaves out those that do not fit, so the
    ones the moment needs must come first."""
    from tests.helpers import shown_lines

    app, _kernel = engine_app(screen="train", lang=lang)
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.ready and "start" in footer_actions(screen))
        assert "export" not in footer_actions(screen) and "pause" not in footer_actions(screen)
        await start_long_run(pilot)
        assert screen.has_class("-form-folded")
        during = {"start", "pause", "stop", "toggle_form", "help"}
        assert await wait_for(pilot, lambda: during <= set(footer_actions(screen))), footer_actions(screen)
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: screen.result is not None, 60)
        after = {"start", "export", "toggle_form", "help"}
        assert await wait_for(pilot, lambda: after <= set(footer_actions(screen))), footer_actions(screen)
        footer = screen.query_one("FittingFooter")
        await pilot.pause()
        for key in footer.children:
            if getattr(key, "action", "") in after:  # whole, worded in the reader's language
                assert key.description in "".join(shown_lines(key)), key.description
                assert key.region.right <= footer.region.right


@pytest.mark.slow  # rank processes, as above
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_at_80x24_two_processes_keep_every_status_line_and_six_rows_per_plot(lang):
    from tests.helpers import shown_lines

    app, _kernel = ranks_app(screen="train", lang=lang)
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.ready and app.kernel.ready, 60)
        screen.query_one("#f-epochs").value = "20"
        screen.query_one("#f-processes").value = "2"
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        # (the run's end, a failure too: a failed run has nothing more to wait for)
        assert await wait_for(pilot, lambda: screen.result is not None or not screen.running, 180)
        assert screen.result is not None, static_text(screen.query_one("#tr-status"))
        await pilot.pause(0.3)
        status = screen.query_one("#tr-status")
        lines = shown_lines(status)
        said = "\n".join(lines)
        for fact in ("w 4", "b ", "2 "):  # the learned, true and optimum lines, and the ranks
            assert fact in said, said
        assert said.count("\n") + 1 == len(status.content.lines(status.content_size.width))  # none cut
        right = screen.query_one("#tr-right")
        assert right.max_scroll_y == 0  # all of it on the screen
        for plot in ("#loss-plot", "#fit-plot"):
            assert screen.query_one(plot).size.height >= 11, plot  # 6 rows of curve, 5 of frame and words
        assert status.region.bottom <= screen.query_one("#tr-plots").region.y


async def test_the_focused_field_shows_at_once_and_tab_moves_through_the_fields_only():
    app, _kernel = engine_app(screen="train")
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.ready and app.focused is screen.query_one("#f-samples"))
        focused_label = screen.query_one("#f-samples").parent.query_one(".field-label")
        other_label = screen.query_one("#f-noise").parent.query_one(".field-label")
        assert await wait_for(pilot, lambda: focused_label.rich_style.reverse, 10)  # (the row marked on focus)
        assert focused_label.rich_style.reverse and not other_label.rich_style.reverse
        focused_bg = screen.query_one("#f-samples").rich_style.bgcolor.get_truecolor()
        other_bg = screen.query_one("#f-noise").rich_style.bgcolor.get_truecolor()
        assert sum(abs(a - b) for a, b in zip(focused_bg, other_bg, strict=True)) > 60  # not one shade
        seen = []
        for _ in range(20):
            await pilot.press("tab")
            await pilot.pause()
            seen.append(app.focused.id if app.focused else None)
        assert not [w for w in seen if w is None or not w.startswith("f-")], seen  # no buttons, nothing else
        assert {"f-task", "f-optimizer", "f-loader", "f-device", "f-shuffle", "f-processes"} <= set(seen)
