"""Export a finished run: loss history (CSV), state_dict, or a script that reproduces it."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static

from tui.bindings import translate
from tui.i18n import said_text, t

KINDS = ("csv", "state_dict", "script")
FILENAMES = {  # per task
    "regression": {"csv": "loss_history.csv", "state_dict": "linear_regression.pt", "script": "train_linear.py"},
    "moons": {"csv": "moons_history.csv", "state_dict": "moons_mlp.pt", "script": "train_moons.py"},
}


class ExportScreen(ModalScreen):
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical { width: 70; height: 14; border: round $accent; background: $surface; }
    ExportScreen OptionList { height: 5; }
    """
    BINDINGS = [Binding("escape", "close", "key.close", id="export.close")]

    def __init__(self, task: str = "regression", script: str | None = None) -> None:
        super().__init__()
        self.filenames = dict(FILENAMES.get(task, FILENAMES["regression"]))
        if script:  # a data-parallel run's script has a name of its own
            self.filenames["script"] = script
        translate(self._bindings)

    def compose(self) -> ComposeResult:
        from engine.exports import default_dir

        with Vertical():
            yield Static(t("ex.title"))
            yield Input(str(default_dir()), id="ex-folder")
            yield OptionList(*[t(f"ex.{k}") for k in KINDS], id="ex-kinds")
            yield Static("", id="ex-result")

    def on_mount(self) -> None:
        # the path first: one typed at once goes there; Enter (or Tab) then moves to the kinds
        self.query_one("#ex-folder", Input).focus()

    @on(Input.Submitted, "#ex-folder")
    def _folder_done(self) -> None:
        self.query_one("#ex-kinds", OptionList).focus()

    @on(OptionList.OptionSelected, "#ex-kinds")
    def _export(self, event: OptionList.OptionSelected) -> None:
        kind = KINDS[event.option_index]
        folder = Path(self.query_one("#ex-folder", Input).value).expanduser()
        self.run_worker(self._ask_export(kind, folder / self.filenames[kind]), group="export")

    async def _ask_export(self, kind: str, path: Path) -> None:
        """The run's model and numbers are in the kernel: it writes the file."""
        try:
            written = await self.app.kernel.request("train_export", kind=kind, path=str(path))
        except Exception as exc:
            self.query_one("#ex-result", Static).update(t("ex.failed", path=path, error=said_text(exc)))
            return
        self.query_one("#ex-result", Static).update(t("ex.written", path=written))
        self.app.notify(t("ex.written", path=written), timeout=6)

    def action_close(self) -> None:
        self.dismiss()
