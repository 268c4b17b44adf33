import json
import os

import pytest

from tests.helpers import log_text, screen_ready, start_long_run, static_text, type_cell, wait_for
from tui.app import make_app


async def test_playground_runs_cells_and_shows_values_errors_and_variables():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await type_cell(pilot, "x = torch.arange(6.).reshape(2, 3)")
        await type_cell(pilot, "x.sum()")
        assert await wait_for(pilot, lambda: "Out[2]: tensor(15.)" in log_text(app), 60)
        assert "shape () · float32 · cpu" in log_text(app)
        await type_cell(pilot, "1/0")
        assert await wait_for(pilot, lambda: "ZeroDivisionError" in log_text(app))
        table = app.screen.query_one("#vars")
        assert await wait_for(pilot, lambda: table.row_count == 1)
        assert [str(c) for c in table.get_row_at(0)][:2] == ["x", "(2, 3)"]
        history = (app.history.path).read_text().splitlines()
        assert [json.loads(line)["src"] for line in history] == ["x = torch.arange(6.).reshape(2, 3)", "x.sum()", "1/0"]
        assert os.stat(app.history.path).st_mode & 0o777 == 0o600


async def test_playground_multiline_history_and_completion():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        editor = app.screen.editor
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        await pilot.press(*"for i in range(2):")
        await pilot.press("enter")
        assert editor.text == "for i in range(2):\n    "  # needs more: a newline with indentation
        await pilot.press(*"print(i*7)")
        await pilot.press("enter", "enter")
        assert await wait_for(pilot, lambda: "7" in log_text(app).split("In [1]")[-1])
        await pilot.press("up")
        assert editor.text == "for i in range(2):\n    print(i*7)"
        await pilot.press("down")
        assert editor.text == ""
        await pilot.press(*"torch.zeros_l")
        await pilot.press("tab")
        assert editor.text == "torch.zeros_like"
        editor.set_source("")
        await pilot.press(*"torch.ze")
        await pilot.press("tab")
        assert editor.text == "torch.zero"
        assert app.screen.completions.is_open
        await pilot.press("down", "enter")
        assert editor.text == "torch.zeros"
        editor.set_source("")
        await pilot.press(*"torch.cat(")
        hint = app.screen.query_one("#signature")
        assert await wait_for(pilot, lambda: hint.has_class("-shown"), 10)
        assert "dim=0" in static_text(hint)
        await pilot.press(")")
        assert not hint.has_class("-shown")
        await pilot.press("backspace", *"[torch.ones(1)], ")
        await pilot.press("enter")  # submitted before the answer came: no hint is left behind
        await pilot.pause(0.5)
        assert not hint.has_class("-shown")


async def test_playground_interrupt_keeps_namespace_and_queue_is_visible():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        await type_cell(pilot, "keep = 5")
        await type_cell(pilot, "import time; time.sleep(30)")
        assert await wait_for(pilot, lambda: app.kernel.running is not None)
        await type_cell(pilot, "keep + 1")
        assert await wait_for(pilot, lambda: "1 queued" in static_text(app.screen.query_one("#run-status")))
        await pilot.press("ctrl+c")
        assert await wait_for(pilot, lambda: "KeyboardInterrupt" in log_text(app), 10)
        assert await wait_for(pilot, lambda: "Out[3]: 6" in log_text(app), 10), log_text(app)


async def test_autograd_steps_through_the_scalar_example():
    app = make_app(screen="autograd")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.recording is not None, 60)
        step_text = lambda: static_text(screen.query_one("#ag-step"))  # noqa: E731
        assert "2·(8 − 0) = 16" in step_text()
        seen = []
        for _ in range(5):
            seen.append(step_text())
            await pilot.press("n")
        joined = "\n".join(seen)
        assert "16 × 5 = 80" in joined and "None → 16" in joined and "None → 80" in joined
        await pilot.press("home")
        assert "step 1/5" in static_text(screen.query_one("#ag-title"))
        await pilot.press("g")
        assert await wait_for(pilot, lambda: "max abs error" in step_text())
        assert "tolerance" in step_text() and "agrees" in step_text()
        await pilot.press("f")
        assert "requires_grad=True" in step_text()
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ == "ValuesScreen"


async def test_autograd_graph_follows_the_step_and_keys_reach_every_step():
    app = make_app(screen="autograd")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.recording is not None, 60)
        screen.load_example("mlp")
        assert await wait_for(pilot, lambda: "mlp" in screen.title_text, 60)
        box = screen.query_one("#ag-graph-box")
        total = len(screen.recording.steps)
        for _ in range(total):
            await pilot.pause(0.05)
            lines = static_text(screen.query_one("#ag-graph")).splitlines()
            marked = next(i for i, line in enumerate(lines) if "▶" in line)
            assert box.scroll_y <= marked < box.scroll_y + box.scrollable_content_region.height, screen.index
            await pilot.press("n")
        box.focus()  # even with the graph pane focused, Home and End go to the first and last step
        await pilot.press("home")
        assert screen.index == 0
        await pilot.press("end")
        assert screen.index == total - 1
        steps = screen.query_one("#ag-step-box")
        steps.focus()
        await pilot.press("home", "pagedown")
        await pilot.pause(0.05)
        assert steps.max_scroll_y == 0 or steps.scroll_y > 0  # a step taller than its pane scrolls


async def test_percent_autograd_opens_the_inspector_on_user_tensors():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await type_cell(pilot, "w = torch.tensor(2., requires_grad=True)")
        await type_cell(pilot, "%autograd (3 * w - 1) ** 2")
        assert await wait_for(pilot, lambda: app.current_mode == "autograd", 60)
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.recording is not None)
        leaf_steps = [s for s in screen.recording.steps if s.grad_after is not None]
        assert [s.grad_after.scalar for s in leaf_steps] == [30.0]
        assert "AccumulateGrad (w)" in static_text(screen.query_one("#ag-graph"))


async def test_training_runs_and_summarises():
    app = make_app(screen="train")
    async with app.run_test(size=(80, 24)) as pilot:
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


@pytest.mark.parametrize("lang,passed", [("en", "Exercise passed!"), ("zh", "练习通过!")])
async def test_learn_walks_a_chapter_by_keyboard(lang, passed):
    app = make_app(screen="learn", lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")  # chapter 2: creating tensors
        assert app.screen.chapters[app.screen.index].id == "create"
        await pilot.press("1")
        assert await wait_for(pilot, lambda: app.current_mode == "playground")
        assert await wait_for(pilot, lambda: "Out[1]" in log_text(app), 60)
        await type_cell(pilot, "t = torch.full((3, 4), 7)")
        table = app.screen.query_one("#vars")
        assert await wait_for(pilot, lambda: "t" in [str(table.get_row_at(i)[0]) for i in range(table.row_count)])
        await pilot.press("f5")
        await pilot.pause(0.1)
        screen = app.screen
        await pilot.press("c")
        assert await wait_for(pilot, lambda: "create" in screen.progress.passed)
        assert passed in static_text(screen.query_one("#ln-text"))
        saved = json.loads(screen.progress.path.read_text())
        assert "create" in saved["passed"] and saved["current"] == "create"


async def test_learn_resumes_where_you_left_off():
    app = make_app(screen="learn")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "n", "n")
        assert app.screen.chapters[app.screen.index].id == "numpy"
    again = make_app(screen="learn")
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        screen = again.screen
        assert screen.chapters[screen.index].id == "numpy"
        labels = [str(screen.query_one("#ln-chapters").get_option_at_index(i).prompt) for i in range(4)]
        assert all(label.startswith("●") for label in labels)


async def test_learn_opens_the_inspector_and_the_training_run():
    app = make_app(screen="learn")
    async with app.run_test(size=(80, 24)) as pilot:
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
        await pilot.press("f5")  # chapter 12, classification: o trains the moons
        await screen_ready(pilot)
        await pilot.press("n", "n", "n")
        assert app.screen.chapters[app.screen.index].id == "classify"
        await pilot.press("o")
        assert await wait_for(pilot, lambda: app.current_mode == "train" and train.config.task == "moons")
        assert await wait_for(pilot, lambda: train.result is not None and train.result.task == "moons", 120)
        assert train.result.accuracy >= 0.95 and train.accuracy_history[-1] == train.result.accuracy_history[-1]
        assert train.query_one("#boundary-plot").display and not train.query_one("#fit-plot").display
        await pilot.press("f5")  # chapter 14, data parallel: o trains on two processes
        await screen_ready(pilot)
        await pilot.press("n", "n")
        assert app.screen.chapters[app.screen.index].id == "ddp"
        await pilot.press("o")
        assert await wait_for(pilot, lambda: app.current_mode == "train" and train.config.processes == 2)
        assert await wait_for(pilot, lambda: train.result is not None and train.result.task == "regression", 180)
        assert len(train.rank_rates) == 2


async def test_a_cell_that_ignores_ctrl_c_is_killed_by_a_second_one():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        # ignored in an earlier cell: ipykernel puts its own handler back for each cell
        await type_cell(pilot, "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN)")
        await type_cell(pilot, "while True: pass")
        assert await wait_for(pilot, lambda: app.kernel.running is not None)
        await pilot.press("ctrl+c")
        assert await wait_for(pilot, lambda: "KeyboardInterrupt" in log_text(app), 10)
        # ignored by the running cell itself: only killing the kernel stops it
        await type_cell(pilot, "signal.signal(signal.SIGINT, signal.SIG_IGN); exec('while True: pass')")
        assert await wait_for(pilot, lambda: app.kernel.running is not None)
        await pilot.press("ctrl+c")
        status = lambda: static_text(app.screen.query_one("#run-status"))  # noqa: E731
        assert await wait_for(pilot, lambda: "ctrl+c again" in status(), 10)
        await pilot.press("ctrl+c")
        assert await wait_for(pilot, lambda: "fresh kernel is ready" in log_text(app), 60)
        await type_cell(pilot, "40 + 2")
        assert await wait_for(pilot, lambda: "Out[1]: 42" in log_text(app), 30)


async def test_a_dead_kernel_shows_a_banner_and_f9_brings_one_back():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        await type_cell(pilot, "import os; os._exit(3)")
        banner = app.screen.query_one("#kernel-banner")
        assert await wait_for(pilot, lambda: banner.has_class("-shown"), 30)
        assert "code 3" in static_text(banner) and "F9" in static_text(banner)
        await type_cell(pilot, "kept = 1")  # typed while dead: kept for the next kernel
        await pilot.press("f3")
        assert await wait_for(pilot, lambda: app.current_mode == "autograd")
        await pilot.press("f2")
        await pilot.press("f9")
        assert await wait_for(pilot, lambda: not banner.has_class("-shown"), 60)
        await type_cell(pilot, "kept + 1")
        assert await wait_for(pilot, lambda: "Out[2]: 2" in log_text(app), 30)
        sources = [json.loads(line)["src"] for line in app.history.path.read_text().splitlines()]
        assert sources == ["import os; os._exit(3)", "kept = 1", "kept + 1"]


async def test_a_run_ends_with_its_kernel():
    app = make_app(screen="train")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_long_run(pilot)
        await app.kernel.restart()
        assert await wait_for(pilot, lambda: not screen.running, 30)
        assert "ended with its kernel" in static_text(screen.query_one("#tr-status"))


async def test_training_on_two_processes_shows_the_ranks_and_the_equal_weights():
    from helpers import static_text

    app = make_app(screen="train", device="cpu")
    async with app.run_test(size=(100, 40)) as pilot:
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
