"""The export dialog of a finished run."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import Input, Static

from engine.protocol import Request, TrainExport
from tests.helpers import running, wait_for
from tui.app import make_app


@pytest.mark.slow
async def test_export_dialog_takes_a_path_typed_at_once(tmp_path):
    from tui.screens.export import ExportScreen

    app = make_app(screen="learn")
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.screen.ready, 60)
        app.push_screen(ExportScreen())
        assert await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen)
                              and app.focused is not None and app.focused.id == "ex-folder", 10), app.focused
        field = app.screen.query_one("#ex-folder")
        assert app.focused is field
        await pilot.press("ctrl+u", *"/tmp/x")
        assert field.value.endswith("/tmp/x")


class FakeKernel:
    """Stands in for the kernel session: records each request; refuses when told to."""

    def __init__(self, refuse: str = "") -> None:
        self.asked: list[Request] = []
        self.refuse = refuse

    async def request(self, request: Request):
        from engine.i18n import SaidError

        self.asked.append(request)
        if self.refuse:
            raise SaidError(self.refuse)
        assert isinstance(request, TrainExport)
        return request.path


class Host(App):
    """A bare app that shows the export dialog over nothing, with a fake kernel."""

    def __init__(self, kernel: FakeKernel, task: str = "regression", script: str | None = None) -> None:
        super().__init__()
        self.kernel, self.run_task, self.script = kernel, task, script

    def on_mount(self) -> None:
        from tui.screens.export import ExportScreen

        self.push_screen(ExportScreen(self.run_task, self.script))


@pytest.mark.parametrize("task,script,kind,name", [
    ("regression", None, "csv", "loss_history.csv"),
    ("regression", None, "state_dict", "linear_regression.pt"),
    ("moons", None, "script", "train_moons.py"),
    ("regression", "train_linear_ddp.py", "script", "train_linear_ddp.py"),
])
async def test_each_kind_asks_the_kernel_to_write_its_file_in_the_folder_typed(tmp_path, task, script, kind, name):
    from tui.screens.export import KINDS

    kernel = FakeKernel()
    app = Host(kernel, task, script)
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.screen.query("#ex-folder"), 5)
        app.screen.query_one("#ex-folder", Input).value = str(tmp_path)  # (typing it: the test above)
        await pilot.press("enter")  # the folder done: on to the kinds
        for _ in range(KINDS.index(kind)):
            await pilot.press("down")
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: kernel.asked, 5)
        assert kernel.asked == [TrainExport(kind, str(tmp_path / name))]
        result = app.screen.query_one("#ex-result", Static)
        assert await wait_for(pilot, lambda: str(tmp_path / name) in str(result.content), 5)


async def test_a_refused_export_says_why_in_the_dialog_and_escape_closes_it(tmp_path):
    from tui.screens.export import ExportScreen

    app = Host(FakeKernel(refuse="err.request.no_run"))
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.screen.query("#ex-folder"), 5)
        app.screen.query_one("#ex-folder", Input).value = str(tmp_path)
        await pilot.press("enter", "enter")
        result = app.screen.query_one("#ex-result", Static)
        assert await wait_for(pilot, lambda: "no finished run to export yet" in str(result.content), 5)
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: not isinstance(app.screen, ExportScreen), 5)
