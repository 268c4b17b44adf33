"""The fake kernel keeps the same queue, status and events as a real one, so screens tested on it
see what they would see from a kernel process."""

from __future__ import annotations

import asyncio

import pytest

from engine.protocol import DescribeVariable, TourCheck, Variables
from engine.repl.variables import Variable
from tests.helpers import log_text, running, type_cell, wait_for
from tui.app import make_app
from tui.kernel import events as ev
from tui.kernel.base import KernelGone, Refused, Status
from tui.kernel.fake import FakeKernel


async def started(kernel: FakeKernel) -> list:
    said: list = []
    kernel.listen(said.append)
    await kernel.start()
    return said


async def until(check, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def test_cells_run_in_order_with_their_output_and_values():
    kernel = FakeKernel()
    said = await started(kernel)
    assert kernel.status is Status.IDLE and isinstance(said[0], ev.KernelReady)
    first, second, third = kernel.execute("x = 2\nprint('hi')"), kernel.execute("x * 21"), kernel.execute("1 / 0")
    assert kernel.status is Status.BUSY
    await until(lambda: kernel.status is Status.IDLE)
    done = [e for e in said if isinstance(e, ev.CellDone)]
    assert [(d.cell, d.number, d.status) for d in done] == [(first, 1, "ok"), (second, 2, "ok"), (third, 3, "error")]
    assert [e.text for e in said if isinstance(e, ev.CellStream)] == ["hi\n"]
    assert [e.data["text/plain"] for e in said if isinstance(e, ev.CellDisplay)] == ["42"]
    [error] = [e for e in said if isinstance(e, ev.CellError)]
    assert error.ename == "ZeroDivisionError" and error.cell == third


async def test_a_held_cell_runs_on_and_the_ones_behind_it_are_queued_until_interrupted():
    kernel = FakeKernel()
    said = await started(kernel)
    kernel.hold()
    kernel.execute("1")
    kernel.execute("2")
    await until(lambda: kernel.running is not None)
    assert kernel.running.source == "1" and [c.source for c in kernel.queued] == ["2"]
    await kernel.interrupt()
    await until(lambda: kernel.running is not None and kernel.running.source == "2")
    assert [e.ename for e in said if isinstance(e, ev.CellError)] == ["KeyboardInterrupt"]
    kernel.release()
    await until(lambda: kernel.status is Status.IDLE)
    assert [e.status for e in said if isinstance(e, ev.CellDone)] == ["error", "ok"]


async def test_death_loses_the_running_cell_and_keeps_the_others_for_the_next_kernel():
    kernel = FakeKernel()
    said = await started(kernel)
    kernel.hold()
    kernel.execute("a = 1")
    kernel.execute("b = 2")
    await until(lambda: kernel.running is not None)
    kernel.die("killed by a test")
    assert kernel.status is Status.DEAD and kernel.dead
    died = [e for e in said if isinstance(e, ev.KernelDied)]
    assert died == [ev.KernelDied("killed by a test", 1)]
    assert [(e.source, e.status) for e in said if isinstance(e, ev.CellDone)] == [("a = 1", "lost")]
    with pytest.raises(KernelGone):
        await kernel.request(TourCheck("create"))
    kernel.release()
    await kernel.restart()
    await until(lambda: kernel.status is Status.IDLE)
    assert kernel.namespace.get("b") == 2 and "a" not in kernel.namespace


async def test_requests_are_answered_from_the_table_and_refused_otherwise():
    kernel = FakeKernel()
    await started(kernel)
    kernel.answers[DescribeVariable] = lambda request: f"about {request.name}"
    assert await kernel.request(DescribeVariable("x")) == "about x"
    with pytest.raises(Refused, match="no answer for TourCheck"):
        await kernel.request(TourCheck("create"))
    assert kernel.asked == [DescribeVariable("x"), TourCheck("create")]


async def test_the_app_runs_on_a_fake_kernel_and_shows_its_news():
    kernel = FakeKernel()
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: kernel.ready, 10)
        await type_cell(pilot, "6 * 7")
        assert await wait_for(pilot, lambda: "Out[1]: 42" in log_text(app), 10), log_text(app)
        kernel.send(Variables((Variable("weights", "tensor", "(3, 4)", "float32", "cpu", 48, True),)))
        table = app.screen.query_one("#vars")
        assert await wait_for(pilot, lambda: table.row_count == 1, 10)
        assert "weights" in str(table.get_row_at(0))
    assert kernel.shut_down  # the app stops its kernel, whichever it is


async def test_the_training_screen_trains_on_the_engine_run_in_this_process():
    """The kernel's own handlers behind a fake kernel: the run is the engine's, with no process."""
    from tests.engine_in_process import serve_engine
    from tests.helpers import static_text

    kernel = FakeKernel()
    app = make_app(screen="train", kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        serve_engine(kernel)
        screen = app.screen
        screen.query_one("#f-epochs").value = "30"
        assert await wait_for(pilot, lambda: kernel.ready, 10)
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: screen.result is not None, 60), static_text(screen.query_one("#tr-status"))
        status = static_text(screen.query_one("#tr-status"))
        assert "Done: 30 epochs" in status and "optimum" in status
        assert len(screen.loss_history) == 30
        assert type(kernel.namespace["trained_model"]).__name__ == "Linear"  # left for the Playground


async def test_a_scripted_cell_asks_for_input_prints_and_returns_its_value():
    from tui.kernel.fake import CellRun

    kernel = FakeKernel()
    said = await started(kernel)

    async def asks(run: CellRun) -> str:
        name = await run.input("name? ")
        run.print(f"hello {name}\n")
        await run.input("pw: ", password=True)  # ends of file: EOFError, as input() raises
        return "never"

    kernel.scripts["ask"] = asks
    ask = kernel.execute("ask")
    await until(lambda: any(isinstance(e, ev.InputRequested) for e in said))
    assert [e for e in said if isinstance(e, ev.InputRequested)] == [ev.InputRequested(ask, "name? ")]
    kernel.answer("Ada")
    await until(lambda: len([e for e in said if isinstance(e, ev.InputRequested)]) == 2)
    assert [e.text for e in said if isinstance(e, ev.CellStream)] == ["hello Ada\n"]
    assert [e.password for e in said if isinstance(e, ev.InputRequested)] == [False, True]
    kernel.answer("\x04")
    await until(lambda: kernel.status is Status.IDLE)
    assert [e.ename for e in said if isinstance(e, ev.CellError)] == ["EOFError"]
    assert kernel.sent_input == ["Ada", "\x04"]
    kernel.scripts["value"] = lambda run: asyncio.sleep(0, 42)
    kernel.execute("value")
    await until(lambda: kernel.status is Status.IDLE)
    assert [e.data["text/plain"] for e in said if isinstance(e, ev.CellDisplay)] == ["42"]


async def test_a_scripted_cell_runs_on_until_interrupted_or_ignores_it_until_a_restart():
    from tui.kernel.fake import CellRun

    kernel = FakeKernel()
    said = await started(kernel)

    async def long(run: CellRun) -> None:
        await run.wait()

    async def deaf(run: CellRun) -> None:
        run.ignore_interrupts()
        await run.wait()

    kernel.scripts.update(long=long, deaf=deaf)
    kernel.execute("long")
    kernel.execute("x = 1")
    await until(lambda: kernel.running is not None)
    await kernel.interrupt()
    await until(lambda: kernel.status is Status.IDLE)  # the cell behind it ran
    assert [e.ename for e in said if isinstance(e, ev.CellError)] == ["KeyboardInterrupt"]
    assert kernel.namespace["x"] == 1
    kernel.execute("deaf")
    await until(lambda: kernel.running is not None)
    await kernel.interrupt()
    for _ in range(5):
        await asyncio.sleep(0)
    assert kernel.running is not None and kernel.interrupts == 2  # still running
    await kernel.restart()
    assert kernel.ready and kernel.running is None
    assert [e.status for e in said if isinstance(e, ev.CellDone)][-1] == "restarted"


async def test_hooks_run_before_and_after_each_cell_as_ipythons_do():
    kernel = FakeKernel()
    said = await started(kernel)
    seen: list = []
    kernel.pre_run_cell.append(lambda cell: seen.append(("pre", cell.number)))
    kernel.post_run_cell.append(lambda cell: (seen.append(("post", cell.number)), kernel.send(("news", cell.number))))
    kernel.execute("1")
    kernel.execute("1 / 0")
    await until(lambda: kernel.status is Status.IDLE)
    assert seen == [("pre", 1), ("post", 1), ("pre", 2), ("post", 2)]  # an error's cell too
    # the hook's news comes before the cell's end, as the extension's comes before the reply
    kinds = [e if isinstance(e, tuple) else type(e).__name__ for e in said if isinstance(e, (tuple, ev.CellDone))]
    assert kinds == [("news", 1), "CellDone", ("news", 2), "CellDone"]
