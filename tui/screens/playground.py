"""F2 Playground: a tensor REPL with history, completion, interrupt and a live variables pane."""

from __future__ import annotations

import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from tui.i18n import t
from tui.screens.base import BaseScreen

# The editor, output and table widgets are imported in compose_body(): this module is imported
# before the first frame, and those imports are among the slowest of start-up.


def human_bytes(n: int) -> str:
    for unit in ("B", "K", "M", "G"):
        if n < 1024 or unit == "G":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n}"


class PlaygroundScreen(BaseScreen):
    """The REPL: output above, the editor below, variables on the right."""

    DEFAULT_CSS = """
    #pg-main { height: 1fr; }
    #pg-left { width: 1fr; }
    #pg-vars { width: 34; border-left: vkey $primary; }
    #vars-title { text-style: bold; height: 1; }
    #vars { height: 1fr; }
    #var-details { height: auto; max-height: 8; color: $text-muted; }
    #run-status { height: 1; }
    #editor { height: auto; min-height: 3; max-height: 10; border: round $primary; }
    #editor:focus { border: round $accent; }
    """

    TITLE_KEY = "screen.playground"
    BINDINGS = [
        Binding("ctrl+c", "interrupt", "pg.interrupt", id="pg.interrupt", tooltip="tip.pg.interrupt", priority=True),
        Binding("ctrl+r", "search_history", "pg.search", id="pg.search", tooltip="tip.pg.search"),
        Binding("ctrl+o", "snippets", "pg.snippets", id="pg.snippets", tooltip="tip.pg.snippets"),
        Binding("ctrl+t", "cycle_focus", "pg.focus", id="pg.focus", tooltip="tip.pg.focus", show=False),
        Binding("ctrl+l", "clear", "pg.clear", id="pg.clear", tooltip="tip.pg.clear", show=False),
        Binding("f9", "restart", "pg.restart", id="pg.restart", tooltip="tip.pg.restart"),
        Binding("escape", "focus_editor", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.early_keys: list = []
        self._run_status_text = ""

    def compose_body(self) -> ComposeResult:
        from textual.widgets import DataTable

        from tui.widgets.editor import CellEditor, Completions
        from tui.widgets.output import OutputLog

        self.completions = Completions()
        app = self.app
        self.editor = CellEditor(self.completions, app.history.entries, lambda: app.kernel.namespace)
        with Horizontal(id="pg-main"):
            with Vertical(id="pg-left"):
                yield OutputLog()
                yield Static("", id="run-status")
                yield self.completions
                yield self.editor
            with Vertical(id="pg-vars"):
                yield Static(t("pg.variables"), id="vars-title")
                yield DataTable(id="vars", cursor_type="row", zebra_stripes=False)
                yield Static("", id="var-details")

    def on_key(self, event) -> None:
        # Keys typed before the editor exists (the first moments after start) are kept for it.
        if not self.ready and (event.is_printable or event.key in ("enter", "tab")):
            self.early_keys.append(event)
            event.stop()

    def body_ready(self) -> None:
        table = self.query_one("#vars")
        table.add_columns(t("pg.col.name"), t("pg.col.shape"), t("pg.col.dtype"), t("pg.col.bytes"))
        self.output = self.query_one("#output")
        self.output.write_note(t("pg.welcome"), "bold")
        for event in self.app.take_kernel_events():
            self.handle_kernel_event(event)
        self.editor.focus()
        for key in self.early_keys:
            if key.key == "enter":
                self.editor._submit_or_newline()
            elif key.key == "tab":
                self.editor.insert("    ")
            else:
                self.editor.insert(key.character)
        self.early_keys.clear()
        self.call_after_refresh(lambda: self.set_timer(0.1, self.editor.highlight))
        self.set_interval(0.2, self._update_run_status)
        self._update_run_status()

    # --- running cells --------------------------------------------------------------------
    def on_cell_editor_submitted(self, message) -> None:
        self.run_source(message.source)

    def run_source(self, source: str) -> int:
        """Queue a cell (from the editor, or sent by the Learn screen); the editor is left as is."""
        number = self.app.kernel.submit(source)
        self._update_run_status()
        return number

    def handle_kernel_event(self, event) -> None:
        """Show one kernel event (engine.repl.kernel) or a TerminalOutput; the app hands them over on
        the UI thread."""
        from engine.repl.kernel import CellDone, CellOutput, CellStarted, KernelReady, Restarted
        from engine.repl.streams import clean
        from tui.messages import TerminalOutput

        if isinstance(event, TerminalOutput):
            text, _ = clean(event.text)  # written to the terminal: escape codes and all
            if text.strip():
                self.output.write_note(t("pg.terminal_output") + "\n" + text[-20_000:].rstrip(), "italic")
        elif isinstance(event, CellStarted):
            self.output.write_input(event.number, event.source)
        elif isinstance(event, CellOutput):
            self.output.write_output(event.number, event.text)
        elif isinstance(event, CellDone):
            result = event.result
            self.output.write_result(result)
            self._show_variables(result.variables)
            if result.autograd is not None:
                self.app.open_autograd(result.autograd)
        elif isinstance(event, KernelReady):
            if event.error:
                self.output.write_note(t("pg.kernel_failed", error=event.error), "bold red")
            else:
                self.output.write_note(t("pg.ready", version=event.torch_version), "dim")
        elif isinstance(event, Restarted):
            self.output.write_note(event.message, "bold yellow")
            self._show_variables(())
        self._update_run_status()

    def _update_run_status(self) -> None:
        kernel = self.app.kernel
        status = self.query_one("#run-status", Static)
        parts = []
        if not kernel.ready.is_set():
            parts.append(t("pg.loading"))
        if kernel.running is not None:
            elapsed = time.monotonic() - kernel.running_since
            parts.append(t("pg.running", number=kernel.running, seconds=f"{elapsed:.1f}"))
        queued = [n for n, _ in list(kernel.pending) if n != kernel.running]
        if queued:
            parts.append(t("pg.queued", cells=" ".join(f"[{n}]" for n in queued)))
        text = " · ".join(parts) if parts else t("pg.idle")
        if text != self._run_status_text:  # an unchanged line is not redrawn
            self._run_status_text = text
            status.update(Text(text, style="bold yellow" if parts else "dim"))

    # --- variables pane -------------------------------------------------------------------
    def _show_variables(self, variables) -> None:
        table = self.query_one("#vars")
        table.clear()
        for v in variables:
            table.add_row(v.name, v.shape, v.dtype, human_bytes(v.nbytes), key=v.name)
        if not variables:
            self.query_one("#var-details", Static).update("")

    def on_data_table_row_highlighted(self, event) -> None:
        if event.data_table.id == "vars" and event.row_key is not None and event.row_key.value:
            self._load_details(event.row_key.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="details")
    def _load_details(self, name: str) -> None:
        from engine.repl.variables import details

        info = details(name, self.app.kernel.namespace)
        if info is None:
            return
        shares = ", ".join(info.shares_with) or t("pg.shares_none")
        text = (f"{info.name}: {info.summary}\n{t('pg.strides')} {info.strides} · "
                f"{t('pg.contiguous') if info.contiguous else t('pg.not_contiguous')}\n"
                f"{t('pg.shares')} {shares}")
        self.app.call_from_thread(self.query_one("#var-details", Static).update, text)

    # --- actions --------------------------------------------------------------------------
    def check_action(self, action: str, parameters) -> bool | None:
        if action == "interrupt":
            # Only while a cell runs: otherwise ctrl+c stays the editor's copy.
            return self.app.kernel.running is not None
        return True

    def action_interrupt(self) -> None:
        if self.app.kernel.interrupt():
            self.notify(t("pg.interrupting"), timeout=2)

    def action_restart(self) -> None:
        self.app.kernel.restart()
        self.output.write_note(t("pg.restarting"), "yellow")

    def action_clear(self) -> None:
        self.output.clear()

    def action_focus_editor(self) -> None:
        self.completions.close()
        self.editor.focus()

    def action_cycle_focus(self) -> None:
        order = [self.editor, self.output, self.query_one("#vars")]
        focused = self.focused
        index = next((i for i, w in enumerate(order) if w is focused), -1)
        order[(index + 1) % len(order)].focus()

    def action_search_history(self) -> None:
        from tui.screens.pickers import HistorySearch

        def chosen(source: str | None) -> None:
            if source is not None:
                self.editor.set_source(source)
            self.editor.focus()

        self.app.push_screen(HistorySearch(self.app.history), chosen)

    def action_snippets(self) -> None:
        from tui.screens.pickers import SnippetPicker

        def chosen(source: str | None) -> None:
            if source is not None:
                self.editor.set_source(source)
            self.editor.focus()

        self.app.push_screen(SnippetPicker(), chosen)
