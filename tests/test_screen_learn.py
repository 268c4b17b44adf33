"""F5 Learn: chapters by keyboard, examples run in the Playground, exercises checked, `o` opens the screen."""

import json

import pytest

from tests.engine_in_process import engine_app, ranks_app
from tests.helpers import log_text, running, screen_ready, static_text, type_cell, wait_for
from tui.app import make_app
from tui.kernel.fake import FakeKernel


@pytest.mark.parametrize("lang,passed", [("en", "Exercise passed!"), ("zh", "练习通过!")])
async def test_learn_walks_a_chapter_by_keyboard(lang, passed):
    app, kernel = engine_app(screen="learn", lang=lang)
    async with running(app, size=(80, 24)) as pilot:
        await pilot.press("n")  # chapter 2: creating tensors
        assert app.screen.chapters[app.screen.index].id == "create"
        await pilot.press("1")
        assert await wait_for(pilot, lambda: app.current_mode == "playground")
        assert await wait_for(pilot, lambda: "Out[1]" in log_text(app), 60)
        await type_cell(pilot, "t = torch.full((3, 4), 7)")
        # the kernel's extension sends the variables after each cell; the fake leaves that to us
        from engine.protocol import Variables
        from engine.repl.variables import collect

        assert await wait_for(pilot, lambda: "t" in kernel.namespace and kernel.running is None)
        kernel.send(Variables(tuple(collect({"t": kernel.namespace["t"]}))))
        table = app.screen.query_one("#vars")
        assert await wait_for(pilot, lambda: "t" in [str(table.get_row_at(i)[0]) for i in range(table.row_count)])
        await pilot.press("f5")
        assert await wait_for(pilot, lambda: app.current_mode == "learn" and app.screen.keys_ready, 10)
        screen = app.screen
        await pilot.press("c")
        assert await wait_for(pilot, lambda: "create" in screen.progress.passed)
        assert passed in static_text(screen.query_one("#ln-text"))
        saved = json.loads(screen.progress.path.read_text())
        assert "create" in saved["passed"] and saved["current"] == "create"


async def test_learn_resumes_where_you_left_off():
    app = make_app(screen="learn", kernel=FakeKernel())
    async with running(app, size=(80, 24)) as pilot:
        await pilot.press("n", "n", "n")
        assert app.screen.chapters[app.screen.index].id == "numpy"
    again = make_app(screen="learn", kernel=FakeKernel())
    async with running(again, size=(80, 24)) as pilot:
        assert await screen_ready(pilot)
        screen = again.screen
        assert screen.chapters[screen.index].id == "numpy"
        labels = [str(screen.query_one("#ln-chapters").get_option_at_index(i).prompt) for i in range(4)]
        assert all(label.startswith("●") for label in labels)


async def test_learn_opens_the_inspector_and_the_training_run():
    app, _kernel = engine_app(screen="learn")
    async with running(app, size=(80, 24)) as pilot:
        await screen_ready(pilot)
        for _ in range(7):
            await pilot.press("n")
        assert app.screen.chapters[app.screen.index].id == "autograd"
        await pilot.press("o")
        assert await wait_for(pilot, lambda: app.current_mode == "autograd")
        assert await wait_for(pilot, lambda: app.screen.recording is not None
                              and app.screen.title_text.startswith("scalar"), 60)
        await pilot.press("f5")
        await screen_ready(pilot)
        await pilot.press("n", "o")
        assert await wait_for(pilot, lambda: app.current_mode == "train")
        train = app.screen
        assert await wait_for(pilot, lambda: train.result is not None, 120)
        assert train.result.epochs == 100 and 112 < train.result.final_loss < 117


@pytest.mark.slow  # the data-parallel run's ranks are processes
async def test_learn_opens_the_moons_and_the_data_parallel_runs():
    """The classification chapter's `o` trains the moons to the goal, the data-parallel chapter's
    on two processes (the runs are the engine's, in this process: tests/engine_in_process.py)."""
    app, _kernel = ranks_app(screen="learn")
    async with running(app, size=(80, 24)) as pilot:
        await screen_ready(pilot)
        screen = app.screen
        screen.query_one("#ln-chapters").highlighted = [c.id for c in screen.chapters].index("classify")
        # chapter 12, classification: o trains the moons
        assert await wait_for(pilot, lambda: screen.chapters[screen.index].id == "classify")
        await pilot.press("o")
        assert await wait_for(pilot, lambda: app.current_mode == "train"
                              and getattr(app.screen.config, "task", "") == "moons")
        train = app.screen
        assert await wait_for(pilot, lambda: train.result is not None and train.result.task == "moons", 300)
        assert (train.result.metrics.accuracy >= 0.95
                and train.curve_history[-1] == train.result.metrics.accuracy_history[-1])
        assert train.query_one("#boundary-plot").display and not train.query_one("#fit-plot").display
        await pilot.press("f5")  # chapter 14, data parallel: o trains on two processes
        await screen_ready(pilot)
        await pilot.press("n", "n")
        assert app.screen.chapters[app.screen.index].id == "ddp"
        await pilot.press("o")
        assert await wait_for(pilot, lambda: app.current_mode == "train" and train.config.processes == 2)
        assert await wait_for(pilot, lambda: train.result is not None and train.result.task == "regression", 300)
        assert len(train.rank_rates) == 2


async def test_chinese_chapters_are_broken_into_lines_as_chinese_at_80_columns():
    """Every chapter's lines as drawn: no line starts with `。` or `,`, no bullet alone, no name cut in
    two (`Lon` / `gTensor(int64)`, `Distribut` / `edSampler`), whatever Rich would do at spaces."""
    from tests.helpers import badly_broken, shown_lines

    app = make_app(screen="learn", lang="zh", kernel=FakeKernel())
    async with running(app, size=(80, 24)) as pilot:
        assert await screen_ready(pilot)
        screen = app.screen
        wrong = []
        for i, chapter in enumerate(screen.chapters):
            screen.query_one("#ln-chapters").highlighted = i
            assert await wait_for(pilot, lambda i=i: screen.index == i)
            await pilot.pause()
            code = {line.strip() for e in chapter.examples for line in e.code.splitlines()} | set(chapter.shell)
            lines = [line for line in shown_lines(screen.query_one("#ln-text")) if line.strip() not in code]
            text = "\n".join([chapter.title, chapter.body, chapter.exercise, *(e.title for e in chapter.examples)])
            wrong += [f"{chapter.id}: {w}" for w in badly_broken(lines, text)]
        assert not wrong, "\n".join(wrong)


async def test_learn_opens_the_model_view_of_the_chapters_model():
    """Chapter 15's o: the Model view of the Playground's model, with the chapter's input (32, 2)."""
    from torch import nn

    app, kernel = engine_app(screen="learn")
    async with running(app, size=(80, 24)) as pilot:
        assert await screen_ready(pilot)
        kernel.namespace["model"] = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
        screen = app.screen
        screen.query_one("#ln-chapters").highlighted = [c.id for c in screen.chapters].index("own")
        assert await wait_for(pilot, lambda: screen.chapters[screen.index].id == "own")
        await pilot.press("o")
        assert await wait_for(pilot, lambda: app.current_mode == "model")
        view = app.screen
        assert await wait_for(pilot, lambda: view.summary is not None, 60)
        assert view.summary.name == "model" and view.summary.total == 82
        assert view.summary.output_shape == "(32, 2)" and view.query_one("#mv-input").value == "(32, 2)"


@pytest.mark.slow  # a kernel process: %model and %train are the kernel's own commands
async def test_learn_trains_your_own_model_with_the_chapters_examples():
    """Chapter 15 as a learner walks it: 2 opens the Model view, 3 trains in Training (where ctrl+g
    shows the gradients of each of the model's four tensors), 4 reads the run's results."""
    app = make_app(screen="learn")
    async with running(app, size=(80, 24)) as pilot:
        assert await screen_ready(pilot)
        screen = app.screen
        screen.query_one("#ln-chapters").highlighted = [c.id for c in screen.chapters].index("own")
        assert await wait_for(pilot, lambda: screen.chapters[screen.index].id == "own")
        await pilot.press("2")  # (example 1 runs first: it makes the model)
        assert await wait_for(pilot, lambda: app.current_mode == "model", 120)
        view = app.screen
        assert await wait_for(pilot, lambda: view.summary is not None and view.summary.output_shape == "(32, 2)", 60)
        await pilot.press("f5")
        assert await screen_ready(pilot)
        await pilot.press("3")
        assert await wait_for(pilot, lambda: app.current_mode == "train", 60)
        train = app.screen
        assert await wait_for(pilot, lambda: train.result is not None and train.result.task == "own", 120)
        assert train.result.epochs == 50 and train.result.metrics.accuracy > 0.9
        await pilot.press("ctrl+g")
        panel = train.query_one("#health-panel")
        assert await wait_for(pilot, lambda: panel.display and panel.snapshot is not None)
        assert panel.snapshot.tensors == 4 and not panel.snapshot.vanishing and not panel.snapshot.exploding
        await pilot.press("f5")
        assert await screen_ready(pilot)
        await pilot.press("4")
        assert await wait_for(pilot, lambda: app.current_mode == "playground")
        assert await wait_for(pilot, lambda: "(True, True)" in log_text(app), 60)
        assert "accuracy in the last epoch: 0.97" in log_text(app)
