"""tui/widgets/plots.py: the Training screen's plots keep their frame in Chinese; the loss plot's x axis."""



def test_plot_lines_with_chinese_keep_their_width():
    from rich.cells import cell_len
    from rich.text import Text

    from tui.widgets.plots import narrow_text

    line = Text.from_ansi("│ ▞▞ \x1b[31m本次\x1b[0m        │")
    fixed = narrow_text(line)
    assert cell_len(fixed.plain) == len(line.plain)  # as wide on screen as plotext meant it
    assert fixed.plain == "│ ▞▞ 本次      │"
    assert [(s.start, s.end, str(s.style)) for s in fixed.spans] == [(5, 7, "color(1)")]  # styles kept
    assert narrow_text(Text("│ plain ascii │")).plain == "│ plain ascii │"


async def test_the_loss_plot_takes_this_runs_epochs_and_cuts_a_longer_previous_run():
    from textual.app import App

    from tests.helpers import x_labels
    from tui.widgets.plots import LossPlot

    class One(App):
        def compose(self):
            yield LossPlot()

    app = One()
    async with app.run_test(size=(80, 20)) as pilot:
        plot = app.query_one(LossPlot)
        this_run = [1.0 / epoch for epoch in range(1, 11)]  # 10 of 30 epochs done
        previous = [2.0 / epoch for epoch in range(1, 101)]  # a 100-epoch run
        plot.set_data(this_run, previous, x_range=(1, 30))
        await pilot.pause()
        # the axis is this run's 30 epochs, the 100-epoch previous run cut at 30, not stretching it
        assert x_labels(plot)[0] == 1 and x_labels(plot)[-1] == 30
        plot.set_data(this_run, previous)  # no range given: the data's own (the Playground's live plots)
        await pilot.pause()
        assert x_labels(plot)[-1] == 100


async def test_the_live_panel_shows_more_plots_when_the_terminal_widens_after_the_last_point():
    """The plots that fit are counted again on a resize, not only when points come: a loop that has
    ended, drawn first at a narrow width (or before the layout), gets all its plots on a wider one."""
    from textual.app import App

    from engine.protocol import LiveSeries
    from tests.helpers import wait_for
    from tui.widgets.live_panel import LivePanel
    from tui.widgets.plots import LossPlot

    class One(App):
        def compose(self):
            yield LivePanel()

    app = One()
    async with app.run_test(size=(40, 24)) as pilot:
        panel = app.query_one(LivePanel)
        points = {"x": [0, 1, 2], "y": [3.0, 2.0, 1.0], "count": 3, "last": 1.0}
        panel.take(LiveSeries(run=1, new_run=True, series={"loss": points, "half": points}))
        titles = lambda: [str(plot.title) for plot in panel.query(LossPlot)]  # noqa: E731
        assert await wait_for(pilot, lambda: titles() == ["loss"], 10), titles()  # one fits in 40 columns
        await pilot.resize_terminal(100, 24)
        assert await wait_for(pilot, lambda: titles() == ["loss", "half"], 10), titles()


async def test_a_loss_plot_is_downsampled_again_for_its_new_width():
    """A long curve is drawn as the min and max of as many bins as the plot is wide: drawn narrow
    (or before the layout gave it a width), it gets the finer curve when it widens."""
    from textual.app import App

    from tests.helpers import wait_for
    from tui.widgets.plots import LossPlot

    class One(App):
        def compose(self):
            yield LossPlot()

    app = One()
    async with app.run_test(size=(30, 20)) as pilot:
        plot = app.query_one(LossPlot)
        drawn: list[int] = []
        plot_call = plot.plt.plot

        def counting(xs, ys, **options):
            drawn.append(len(xs))
            return plot_call(xs, ys, **options)

        plot.plt.plot = counting
        plot.set_data([1.0 + (i % 7) for i in range(5000)], [])
        assert drawn[-1] <= 2 * 30
        await pilot.resize_terminal(120, 20)
        assert await wait_for(pilot, lambda: drawn[-1] > 2 * 30, 10), drawn
        assert drawn[-1] <= 2 * 120
