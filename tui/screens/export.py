"""Export a finished run: loss history (CSV), state_dict, or a script that reproduces it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static

from engine.protocol import TrainExport
from engine.tasks import DEFAULT_TASK, task
from tui.asking import Answer, ask
from tui.i18n import t

if TYPE_CHECKING:
    from textual import getters

    from tui.app import TorchTUI

KINDS = ("csv", "state_dict", "script")


class ExportScreen(ModalScreen):
    """Where to write, and what: the kernel writes the file and the path written is shown."""

    if TYPE_CHECKING:
        app = getters.app(TorchTUI)  # (what self.app is, for the type checker)

    class Written(Answer):
        """The path the kernel wrote the file to."""

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical { width: 70; height: 14; border: round $accent; background: $surface; }
    ExportScreen OptionList { height: 5; }
    """
    BINDINGS = [Binding("escape", "close", "key.close", id="export.close")]

    def __init__(self, task_name: str = DEFAULT_TASK, script: str | None = None) -> None:
        super().__init__()
        self.filenames = dict(task(task_name).files)
        self.kinds = [k for k in KINDS if k in self.filenames]  # a task may export no script (Task.no_script)
        self.no_script = task(task_name).no_script
        if script:  # a data-parallel run's script has a name of its own
            self.filenames["script"] = script

    def compose(self) -> ComposeResult:
        from engine.exports import default_dir

        with Vertical():
            yield Static(t("ex.title"))
            yield Input(str(default_dir()), id="ex-folder")
            yield OptionList(*[t(f"ex.{k}") for k in self.kinds], id="ex-kinds")
            yield Static(t(self.no_script) if self.no_script else "", id="ex-result")

    def on_mount(self) -> None:
        # the path first: one typed at once goes there; Enter (or Tab) then moves to the kinds
        self.query_one("#ex-folder", Input).focus()

    @on(Input.Submitted, "#ex-folder")
    def _folder_done(self) -> None:
        self.query_one("#ex-kinds", OptionList).focus()

    @on(OptionList.OptionSelected, "#ex-kinds")
    def _export(self, event: OptionList.OptionSelected) -> None:
        kind = self.kinds[event.option_index]
        folder = Path(self.query_one("#ex-folder", Input).value).expanduser()
        path, kernel = folder / self.filenames[kind], self.app.kernel
        # the run's model and numbers are in the kernel: it writes the file
        ask(self, self.Written, lambda: kernel.request(TrainExport(kind, str(path))), path=path)

    def on_export_screen_written(self, answer: Written) -> None:
        if answer.error:
            self.query_one("#ex-result", Static).update(t("ex.failed", path=answer.context["path"],
                                                          error=answer.error))
            return
        self.query_one("#ex-result", Static).update(t("ex.written", path=answer.result))
        self.app.notify(t("ex.written", path=answer.result), timeout=6)

    def action_close(self) -> None:
        self.dismiss()
