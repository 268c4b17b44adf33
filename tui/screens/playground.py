"""F2 Playground: a tensor REPL with history, completion, interrupt and a live variables pane."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from engine.protocol import DescribeVariable, DisplayWidth, Event, LiveSeries, Variables
from tui.asking import Answer, ask, stale
from tui.i18n import counted, said_text, t
from tui.kernel import events as ev
from tui.kernel.attach import short_name
from tui.kernel.display import hint_for, text_of
from tui.save import ANSI, SaveError, SessionCell, save, save_figure
from tui.screens.base import BaseScreen

if TYPE_CHECKING:
    from textual.timer import Timer
    from textual.widgets import DataTable, Input

    from tui.widgets.editor import CellEditor, Completions
    from tui.widgets.live_panel import LivePanel
    from tui.widgets.output import OutputLog
    from tui.widgets.prompt import StdinPrompt

KEPT_CELLS = 1_000  # cells %save and copy can reach
FOOTER_INTERRUPT_AFTER_S = 0.3  # a cell running this long gets ctrl+c shown in the footer
WIDTH_SETTLE_S = 0.3  # the log's width is sent to the kernel once it stops changing
CELL_TEXT_KEPT = 200_000  # characters of a cell's printed output kept for them
SAVE_COMMAND = re.compile(r"^%save\s+(\S.*\.(?:py|ipynb|png))$", re.IGNORECASE)  # one file, no range: the whole session
VARS_MIN_WIDTH = 110  # narrower than this, the variables pane starts folded
KILL_OFFER_S = 2.0  # after this long busy past ctrl+c, a second ctrl+c restarts the kernel

# The editor, output and table widgets are imported in compose_body(): this module is imported
# before the first frame, and those imports are among the slowest of start-up.


NAME_CELLS, SHAPE_CELLS, TYPE_CELLS = 12, 12, 9  # the variables pane: longer ones are elided


def elide(text: str, cells: int) -> str:
    """`text` if it fits in `cells`, else its start and end around `…` (the whole is in the details)."""
    if cell_len(text) <= cells:
        return text
    head, tail = text[:(cells - 1) - (cells - 1) // 2], text[len(text) - (cells - 1) // 2:]
    while cell_len(head) + cell_len(tail) + 1 > cells:
        head, tail = (head[:-1], tail) if len(head) >= len(tail) else (head, tail[1:])
    return f"{head}…{tail}"


def human_bytes(n: float) -> str:
    for unit in ("B", "K", "M", "G"):
        if n < 1024 or unit == "G":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n}"


def device_totals(variables) -> list[tuple[str, int]]:
    """(device, bytes) of the variables' tensors, cpu first: the sum over names (two names of one
    storage count twice, as each row does)."""
    totals: dict[str, int] = {}
    for v in variables:
        if v.kind == "tensor":
            totals[v.device] = totals.get(v.device, 0) + v.nbytes
    return sorted(totals.items(), key=lambda item: (item[0] != "cpu", item[0]))


class PlaygroundScreen(BaseScreen):
    """The REPL: output above, the editor below, variables on the right."""

    DEFAULT_CSS = """
    #pg-main { height: 1fr; }
    #pg-left { width: 1fr; }
    #pg-vars { width: 48; border-left: vkey $primary; }
    PlaygroundScreen.-vars-folded #pg-vars { display: none; }
    #vars-title { text-style: bold; height: 1; }
    #vars { height: 1fr; }
    #var-details { height: auto; max-height: 8; color: $text-muted; }
    #vars-totals { height: auto; display: none; color: $text-muted; }
    #vars-totals.-shown { display: block; }
    #run-status { height: 1; }
    #live-line { height: auto; max-height: 1; padding: 0 1; background: $surface; }
    #kernel-banner { display: none; height: auto; padding: 0 1; background: $error; color: $text; }
    #kernel-banner.-shown { display: block; }
    #signature { display: none; height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
    #signature.-shown { display: block; }
    #editor { height: auto; min-height: 3; max-height: 10; border: round $primary; }
    #editor:focus { border: round $accent; }
    """

    class WidthSet(Answer):
        """The kernel now prints tensors to the log's width."""

    class Details(Answer):
        """Strides, contiguity and shared storage of one variable."""

    class Restarted(Answer):
        """A fresh kernel process is up (or could not be started)."""

    TITLE_KEY = "screen.playground"
    BINDINGS = [
        Binding("ctrl+c", "interrupt", "pg.interrupt", id="pg.interrupt", tooltip="tip.pg.interrupt", priority=True),
        # only once a cell has called live(), and then early: at 80 columns the footer keeps it
        Binding("ctrl+g", "live", "pg.live", id="pg.live", tooltip="tip.pg.live", priority=True),
        Binding("ctrl+r", "search_history", "pg.search", id="pg.search", tooltip="tip.pg.search"),
        Binding("ctrl+o", "snippets", "pg.snippets", id="pg.snippets", tooltip="tip.pg.snippets"),
        Binding("ctrl+t", "cycle_focus", "pg.focus", id="pg.focus", tooltip="tip.pg.focus", show=False),
        Binding("ctrl+l", "clear", "pg.clear", id="pg.clear", tooltip="tip.pg.clear", show=False),
        Binding("f9", "restart", "pg.restart", id="pg.restart", tooltip="tip.pg.restart"),
        # priority: the editor (a TextArea) has its own f6 and f7 (select line, select all)
        Binding("f6", "toggle_variables", "pg.vars", id="pg.vars", tooltip="tip.pg.vars", priority=True),
        Binding("f7", "copy", "pg.copy", id="pg.copy", tooltip="tip.pg.copy", priority=True),
        Binding("f8", "figure", "pg.figure", id="pg.figure", tooltip="tip.pg.figure", priority=True),
        # priority: the editor keeps focus while the output pages and jumps
        Binding("pageup", "page(-1)", "pg.page_up", id="pg.page_up", tooltip="tip.pg.page", show=False,
                priority=True),
        Binding("pagedown", "page(1)", "pg.page_down", id="pg.page_down", tooltip="tip.pg.page", show=False,
                priority=True),
        Binding("ctrl+up", "jump(-1)", "pg.jump_prev", id="pg.jump_prev", tooltip="tip.pg.jump", show=False,
                priority=True),
        Binding("ctrl+down", "jump(1)", "pg.jump_next", id="pg.jump_next", tooltip="tip.pg.jump", show=False,
                priority=True),
        Binding("escape", "focus_editor", show=False),
        # only under a cell that does not parse because of a paste, whose note names it
        Binding("ctrl+f", "use_fix", id="pg.use_fix", show=False, priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._run_status_text = ""
        self.interrupt_sent_at: float | None = None
        self.dead_cause = ""
        self._asking_cell = ""  # the cell whose input request the prompt line shows
        self._variables_shown: tuple = ()
        self._vars_chosen: bool | None = None  # shown or folded by f6; None: by the width
        # The session's record: every cell that ran, by the session's cell id (unique across
        # kernels), in the order they ran; %save and F7 read it.
        self.session_cells: dict[str, SessionCell] = {}
        self._last_cell = ""  # the cell whose input the log shows last
        self._log_width = 0  # the output log's text width, and the last one the kernel was told
        self._width_sent = 0
        self._width_timer: Timer | None = None
        self.fix = ""  # the last cell mended (engine.explain.syntax), when it failed to parse: ctrl+f takes it
        self.live: LivePanel | None = None  # the live plots' panel, made when a cell first calls live()
        self.output: OutputLog  # (the body's widgets, set when it is built)
        self.editor: CellEditor
        self.completions: Completions
        self.stdin: StdinPrompt

    def compose_body(self) -> ComposeResult:
        from textual.widgets import DataTable

        from tui.widgets.editor import CellEditor, Completions
        from tui.widgets.output import OutputLog
        from tui.widgets.prompt import StdinPrompt

        self.completions = Completions()
        app = self.app
        self.signature = Static("", id="signature")
        self.editor = CellEditor(self.completions, app.history.entries, app.kernel, self.signature)
        self.editor.submit = self.run_source
        self.stdin = StdinPrompt()
        with Horizontal(id="pg-main"):
            with Vertical(id="pg-left"):
                yield OutputLog()
                yield Static("", id="live-line")
                yield Static("", id="kernel-banner")
                yield Static("", id="run-status")
                yield self.completions
                yield self.signature
                yield self.stdin
                yield self.editor
            with Vertical(id="pg-vars"):
                yield Static(t("pg.variables"), id="vars-title")
                yield DataTable(id="vars", cursor_type="row", zebra_stripes=False)
                yield Static("", id="vars-totals")
                yield Static("", id="var-details")

    def body_ready(self) -> None:
        table = cast("DataTable", self.query_one("#vars"))
        table.add_columns(t("pg.col.name"), t("pg.col.shape"), t("pg.col.dtype"), t("pg.col.bytes"))

        from tui.widgets.output import OutputLog

        self.output = self.query_one("#output", OutputLog)
        self.output.live = self.query_one("#live-line", Static)
        # someone else's kernel may hold other values under torch, np, …: it names those it has once ready
        self.output.write_note(t("pg.welcome" if self.app.existing is None else "pg.welcome_attached"), "bold")
        for event in self.app.take_kernel_events():
            self.handle_kernel_event(event)
        self.editor.focus()
        self.call_after_refresh(lambda: self.set_timer(0.1, self.editor.highlight))
        self.set_interval(0.2, self._update_run_status)
        self._update_run_status()

    # --- tensors printed to the log's width -------------------------------------------------
    def on_output_log_width(self, message) -> None:
        self._log_width = message.width
        if self._width_timer is not None:
            self._width_timer.stop()
        self._width_timer = self.set_timer(WIDTH_SETTLE_S, self._send_width)  # a drag sends once

    def _send_width(self) -> None:
        self._width_timer = None
        width, kernel = self._log_width, self.app.kernel
        if width < 1 or width == self._width_sent or not kernel.ready or kernel.plain:
            return
        self._width_sent = width
        ask(self, self.WidthSet, lambda: kernel.request(DisplayWidth(width)))

    def on_playground_screen_width_set(self, answer: WidthSet) -> None:
        if answer.error and not stale(self, answer):  # busy, restarting: the next resize sends it again
            self._width_sent = 0

    # --- running cells --------------------------------------------------------------------
    def on_cell_editor_submitted(self, message) -> None:
        self.run_source(message.source)

    def run_source(self, source: str) -> None:
        """Send a cell (from the editor, or sent by the Learn screen); it joins the history first."""
        self.app.history.append(source)
        self.app.warn_history()
        target = SAVE_COMMAND.match(source.strip())
        if target:  # the session is here, outputs and all: written by the app, not the kernel
            self._save(target.group(1))
            return
        kernel = self.app.kernel
        kernel.execute(source)
        if kernel.dead:  # kept by the session, in order, for the next kernel
            self.output.write_note(t("pg.kernel_dead_keep"), "bold red")
        self._update_run_status()

    def handle_kernel_event(self, event) -> None:
        """Show one event of the kernel session (tui.kernel.events); the app hands them over."""
        out = self.output
        self._keep(event)
        if isinstance(event, ev.CellStarted):
            self._last_cell = event.cell
            self.fix = ""  # the mended lines were another cell's
            out.write_input(event.number, event.source, event.cell)
        elif isinstance(event, ev.CellStream) and event.late:
            self._late_output(event.cell)
            out.write_output(event.cell, event.text, event.name)
            if event.text.endswith("\n"):  # (an unfinished line waits for the rest of it)
                out.finish_output(event.cell)
        elif isinstance(event, ev.CellStream):
            self._back_to(event.cell)
            out.write_output(event.cell, event.text, event.name)
        elif isinstance(event, ev.CellDisplay):
            if event.late:
                self._late_output(event.cell)
            else:
                self._back_to(event.cell)
            out.finish_output(event.cell)
            if event.page:
                out.write_page(event.data)
            else:
                out.write_value(event.number, event.data)
        elif isinstance(event, ev.CellError):
            out.finish_output(event.cell)
            out.write_error(event.traceback, event.ename, event.evalue, hint_for(event.ename, event.evalue, event.traceback))
            self._offer_fix(event)
        elif isinstance(event, ev.InputRequested):
            self._ask(event)
        elif isinstance(event, ev.NextInput):  # %load FILE: the file comes into the editor
            self.editor.set_source(event.text)
            self.editor.focus()
        elif isinstance(event, ev.CellDone):
            out.finish_output(event.cell)
            if event.cell == self._asking_cell:  # interrupted, or the kernel went: no answer wanted
                self._close_prompt()
            self._cell_done(event)
        elif isinstance(event, Variables):
            self._show_variables(event.rows)
        elif isinstance(event, LiveSeries):
            self._live_news(event)
        elif isinstance(event, ev.KernelReady):
            self._kernel_ready(event)
        elif isinstance(event, ev.KernelDied):
            self._show_death(event.cause)
            out.write_note(t("pg.kernel_died", cause=event.cause), "bold red")
            if event.waiting:
                out.write_note(t("pg.cells_wait_dead", cells=event.waiting), "bold")
        elif isinstance(event, ev.KernelRestarting):
            out.write_note(t("pg.restarting"), "yellow")
            if event.waiting:
                out.write_note(t("pg.cells_wait_restart", cells=event.waiting), "yellow")
        if isinstance(event, (ev.KernelDied, ev.KernelRestarting)):
            self._close_prompt()
        if not isinstance(event, (ev.CellStream, ev.CellDisplay, ev.CellStarted, Event)):
            # the status line follows the kernel's state (its 0.2 s tick shows a cell that runs
            # on); a quick cell then never redraws it, and the footer is rebuilt only when ctrl+c
            # comes or goes
            self._update_run_status()

    def _offer_fix(self, error: ev.CellError) -> None:
        """A cell that did not parse because of how it was pasted (two statements on one line, a
        stray triple quote): the note under its error names the key that puts it, mended, in the
        editor."""
        cell = self.session_cells.get(error.cell)
        if error.ename not in ("SyntaxError", "IndentationError", "TabError") or cell is None:
            return
        from engine.explain.syntax import fixed

        mended = fixed(cell.source)
        if mended is None:
            return
        self.fix = mended
        key = self.app.user_keys.get("pg.use_fix", "ctrl+f").split(",")[0].strip()
        self.output.write_note(t("pg.syntax_fix", key=key), "yellow")

    def action_use_fix(self) -> None:
        """ctrl+f: the last cell, mended, in the editor, to look over and run."""
        self.editor.set_source(self.fix)
        self.editor.move_cursor(self.editor.document.end)
        self.fix = ""
        self._show_editor()

    def _late_output(self, cell_id: str) -> None:
        """Output of a cell that was answered already (a thread it started prints on): under a
        line naming that cell, unless its input is the last one in the log."""
        cell = self.session_cells.get(cell_id)
        if cell_id != self._last_cell and cell is not None:
            self.output.write_note(t("pg.late_output", number=cell.number), "dim")
            self._last_cell = cell_id

    def _back_to(self, cell_id: str) -> None:
        """A running cell's output after late output of another cell: under a line naming it again."""
        if cell_id != self._last_cell and (cell := self.session_cells.get(cell_id)) is not None:
            self.output.write_note(t("pg.output_continued", number=cell.number), "dim")
            self._last_cell = cell_id

    # --- the session as cells: %save, copy ------------------------------------------------
    def _keep(self, event) -> None:
        if isinstance(event, ev.CellStarted):
            self.session_cells[event.cell] = SessionCell(event.number, event.source)
            while len(self.session_cells) > KEPT_CELLS:
                self.session_cells.pop(next(iter(self.session_cells)))
            return
        cell = self.session_cells.get(getattr(event, "cell", ""))
        if cell is None:
            return
        if isinstance(event, ev.CellStream):  # kept up to a bound: a cell may print without end
            name = "stderr" if event.name == "stderr" else "stdout"
            kept = getattr(cell, name)
            if len(kept) < CELL_TEXT_KEPT:
                more = event.text[:CELL_TEXT_KEPT - len(kept)]
                cut = "\n" + t("pg.output_not_kept") + "\n" if len(more) < len(event.text) else ""
                setattr(cell, name, kept + more + cut)
        elif isinstance(event, ev.CellDisplay) and not event.page:
            if event.number is not None:
                cell.value = event.data
            else:
                cell.displays.append(event.data)
        elif isinstance(event, ev.CellError):
            cell.error = (event.ename, event.evalue, event.traceback)

    def action_figure(self) -> None:
        """f8: the newest figure over the whole screen (← → the others)."""
        from tui.screens.figure import FigureView

        if not self.output.figures:
            self.notify(t("pg.no_figure"), severity="warning")
            return
        def back(_: None) -> None:
            self.editor.focus()

        self.app.push_screen(FigureView(list(self.output.figures)), back)

    def _save(self, path: str) -> None:
        if path.lower().endswith(".png"):
            if not self.output.figures:
                self.output.write_note(t("pg.no_figure"), "bold red")
                return
            try:
                written = save_figure(self.output.figures[-1], Path(path))
            except SaveError as exc:
                self.output.write_note(said_text(exc), "bold red")
                return
            self.output.write_note(t("pg.saved_figure", path=written), "green")
            return

        cells = list(self.session_cells.values())
        try:
            written = save(cells, Path(path))
        except SaveError as exc:
            self.output.write_note(said_text(exc), "bold red")
            return
        except Exception as exc:  # noqa: BLE001 - nbformat refusing an odd output, say
            self.output.write_note(t("pg.save_failed", path=path, error=f"{type(exc).__name__}: {exc}"), "bold red")
            return
        self.output.write_note(t(counted("pg.saved", len(cells)), cells=len(cells), path=written), "green")

    def _current_cell(self):
        """The cell at the top of the output when it is scrolled back, else the last one."""
        if not self.session_cells:
            return None
        shown = None if self.output.auto_scroll else self.output.top_cell()
        if shown is not None and shown in self.session_cells:
            return self.session_cells[shown]
        return self.session_cells[next(reversed(self.session_cells))]

    def action_copy(self) -> None:
        """f7: copy the text selected with the mouse in the output log, or else the input, output or
        value of the current cell (OSC 52: works over SSH, and in tmux with set-clipboard on)."""
        from tui.screens.pickers import CopyPicker
        if self.output in self.selections and (selected := self.get_selected_text()):
            # text picked with the mouse in the output log
            self.app.copy_to_clipboard(selected)
            self.notify(t(counted("pg.copied_selection", len(selected)), chars=len(selected)), timeout=4)
            self.clear_selection()
            self.editor.focus()
            return
        cell = self._current_cell()
        if cell is None:
            self.notify(t("pg.copy_nothing"), severity="warning")
            return
        error = ANSI.sub("", "\n".join(cell.error[2]) or f"{cell.error[0]}: {cell.error[1]}") if cell.error else ""
        parts = {"input": cell.source, "output": (cell.stdout + cell.stderr + error).rstrip("\n"),
                 "value": text_of(cell.value) if cell.value is not None else ""}

        def chosen(kind: str | None) -> None:
            if kind:
                self.app.copy_to_clipboard(parts[kind])
                self.notify(t(counted("pg.copied", len(parts[kind])), what=t(f"pg.copy_{kind}"), number=cell.number,
                              chars=len(parts[kind])), timeout=4)
            self.editor.focus()

        self.app.push_screen(CopyPicker(cell.number, {k: v for k, v in parts.items() if v}), chosen)

    def action_page(self, step: int) -> None:
        self.output.page(step)

    def action_jump(self, step: int) -> None:
        number = self.output.jump(step)
        if number is not None:
            self.notify(t("pg.at_cell", number=number), timeout=1.5)

    # --- input(), getpass and debuggers ---------------------------------------------------
    def _ask(self, event) -> None:
        """A cell waits for a line: the prompt line takes the editor's place until it is answered."""
        self.output.finish_output(event.cell)
        self._asking_cell = event.cell
        self.interrupt_sent_at = None  # the kernel answers: no reason to offer to kill it
        self.completions.close()
        self.editor.display = False
        self.stdin.ask(event.prompt, event.password)
        if self.app.screen is not self:
            self.app.notify(t("pg.stdin_waiting"), timeout=6)

    def on_stdin_prompt_answered(self, message) -> None:
        cell, self._asking_cell = self._asking_cell, ""
        self.output.write_output(cell, message.echo, "stdout")
        self.app.kernel.answer(message.value)
        self._show_editor()

    def _close_prompt(self) -> None:
        if self.stdin.shown or self._asking_cell:
            self._asking_cell = ""
            self.stdin.hide()
            self._show_editor()

    def _show_editor(self) -> None:
        self.editor.display = True
        self.editor.focus()

    def _cell_done(self, event) -> None:
        self.interrupt_sent_at = None
        if event.status == "aborted":
            self.output.write_note(t("pg.aborted"), "italic yellow")
        elif event.status == "restarted" and event.number is not None:
            self.output.write_note(t("pg.cell_lost_restart", number=event.number), "italic yellow")
        elif event.status == "lost":
            self.output.write_note(t("pg.cell_lost", source=event.source.splitlines()[0][:60]), "bold red")
        if event.elapsed > 1 and event.status in ("ok", "error"):
            self.output.write_note(f"({event.elapsed:.1f} s)", "dim")

    def _show_death(self, cause: str) -> None:
        """The banner over the editor: what happened, and the one key that brings a kernel back
        (an attached kernel is attached to again when it answers)."""
        self.dead_cause = cause
        banner = self.query_one("#kernel-banner", Static)
        key = "pg.attached_banner" if self.app.kernel.attached else "pg.banner"
        banner.update(Text(t(key, cause=cause), style="bold"))
        banner.set_class(bool(cause), "-shown")

    def _kernel_ready(self, event) -> None:
        self._show_death("")
        self._width_sent = 0  # a new kernel prints at 80 columns until told
        self._send_width()
        if event.error:
            self.output.write_note(t("pg.kernel_failed", error=event.error), "bold red")
            return
        existing = self.app.kernel.existing
        if existing is not None:
            name = short_name(existing)
        if event.restarted:
            self._show_variables(())
        if event.plain:
            self.output.write_note(t("pg.plain_ready", name=name), "bold yellow")
            self.output.write_note(event.plain, "yellow")
        elif event.restarted:
            self.output.write_note(t("pg.restarted"), "bold yellow")
        elif existing is not None:
            self.output.write_note(t("pg.attached_ready", name=name, version=event.torch_version), "bold")
            if event.modules:
                key = "pg.names_ready" if len(event.modules) > 1 else "pg.name_ready"
                self.output.write_note(t(key, names=t("pg.names_sep").join(event.modules)), "dim")
        else:
            self.output.write_note(t("pg.ready", version=event.torch_version), "dim")
        if event.waiting:
            self.output.write_note(t("pg.cells_run_now", cells=event.waiting), "bold")

    def _update_run_status(self) -> None:
        kernel = self.app.kernel
        status = self.query_one("#run-status", Static)
        parts, style = [], "bold yellow"
        running = kernel.running
        first_in_line = kernel.next_to_run if running is None else None
        # the first cell in line is the kernel's (or is a moment from it): never "queued"; said
        # to run once it has been a moment without the kernel's word
        unannounced = first_in_line
        if unannounced is not None and time.monotonic() - unannounced.sent < FOOTER_INTERRUPT_AFTER_S:
            unannounced = None
        if self.dead_cause:
            parts.append(t("pg.dead_status"))
            style = "bold red"
        elif not kernel.ready:
            parts.append(t("pg.loading"))
        if running is not None:
            elapsed = time.monotonic() - (running.started or running.sent)
            if self.stdin.shown:
                parts.append(t("pg.waiting_input", number=running.number))
            else:
                parts.append(t("pg.running", number=running.number, seconds=f"{elapsed:.1f}"))
        elif unannounced is not None:  # sent first in line, not yet said to run: it runs
            parts.append(t("pg.running_unannounced", seconds=f"{time.monotonic() - unannounced.sent:.1f}"))
        if (running is not None or unannounced is not None) and self.interrupt_sent_at is not None \
                and time.monotonic() - self.interrupt_sent_at > KILL_OFFER_S:
            # in place of the seconds it has run: the line is one row, and the offer must show whole
            parts[-1] = t("pg.kill_offer")
            style = "bold red"
        queued = len(kernel.queued) - (first_in_line is not None)
        if queued:
            parts.append(t("pg.queued", cells=queued))
        text = " · ".join(parts) if parts else t("pg.idle")
        if text != self._run_status_text:  # an unchanged line is not redrawn
            self._run_status_text = text
            status.update(Text(text, style=style if parts else "dim"), layout=False)  # one line, always
        # ctrl+c is in the footer only while a cell has run a moment (it works at once either way):
        # rebuilding the footer twice for every quick cell cost ~10 ms of styling before its output
        busy = unannounced is not None or (
            running is not None and time.monotonic() - running.sent >= FOOTER_INTERRUPT_AFTER_S)
        if busy != self._footer_shows("interrupt"):
            # compared with what the footer shows: it may have been rebuilt for another reason
            # (focus, a dialog) while a quick cell ran, and must not keep ctrl+c after it
            self.refresh_bindings()

    def _footer_shows(self, action: str) -> bool:
        footer = self.query("FittingFooter")
        return bool(footer) and any(getattr(item, "action", None) == action for item in footer.first().children)

    # --- variables pane -------------------------------------------------------------------
    def _show_variables(self, variables) -> None:
        variables = tuple(variables)
        if variables == self._variables_shown:
            return  # most cells change no tensor: the table is left alone
        self._variables_shown = variables
        table = cast("DataTable", self.query_one("#vars"))
        table.clear()
        for v in variables:
            table.add_row(elide(v.name, NAME_CELLS), elide(v.shape, SHAPE_CELLS), elide(v.dtype, TYPE_CELLS),
                          human_bytes(v.nbytes), key=v.name)
        if not variables:
            self.query_one("#var-details", Static).update("")
        totals = self.query_one("#vars-totals", Static)
        per_device = device_totals(variables)
        totals.update(t("pg.device_totals", totals="  ".join(f"{d} {human_bytes(n)}" for d, n in per_device)))
        totals.set_class(bool(per_device), "-shown")

    def on_data_table_row_highlighted(self, event) -> None:
        if event.data_table.id == "vars" and event.row_key is not None and event.row_key.value:
            name, kernel = event.row_key.value, self.app.kernel
            ask(self, self.Details, lambda: kernel.request(DescribeVariable(name)))

    def on_playground_screen_details(self, answer: Details) -> None:
        # busy in C code, restarted, gone, or no longer a tensor: the details stay as they were
        if stale(self, answer) or answer.error or answer.result is None:
            return
        info = answer.result
        shares = ", ".join(info.shares_with) or t("pg.shares_none")
        text = (f"{info.name}: {info.summary}\n{t('pg.strides')} {info.strides} · "
                f"{t('pg.contiguous') if info.contiguous else t('pg.not_contiguous')}\n"
                f"{t('pg.shares')} {shares}")
        self.query_one("#var-details", Static).update(text)

    # --- actions --------------------------------------------------------------------------
    def check_action(self, action: str, parameters) -> bool | None:
        if action == "interrupt":
            # Only while a cell runs: otherwise ctrl+c stays the editor's copy.
            return self.app.kernel.running is not None or bool(self.app.kernel.queued)
        if action == "live":
            return self.live is not None and bool(self.live.series)
        if action == "use_fix":  # else ctrl+f is the editor's, or nobody's
            return bool(self.fix) and not self.stdin.shown
        return True

    async def action_interrupt(self) -> None:
        """ctrl+c: SIGINT to the kernel; if the cell is still busy 2 s later, ctrl+c again kills
        the kernel and starts a fresh one (a C call that ignores signals cannot be stopped otherwise)."""
        now = time.monotonic()
        if self.interrupt_sent_at is not None and now - self.interrupt_sent_at > KILL_OFFER_S:
            self.interrupt_sent_at = None
            await self.action_restart()
            return
        if self.interrupt_sent_at is None:
            self.interrupt_sent_at = now
        if self.stdin.shown:  # the cell that asked gets KeyboardInterrupt; its prompt goes now
            self.output.write_output(self._asking_cell, f"{self.stdin.prompt}^C\n", "stdout")
            self._close_prompt()
        await self.app.kernel.interrupt()
        self.notify(t("pg.interrupting"), timeout=2)

    async def action_restart(self) -> None:
        """F9: a fresh kernel process (the old one is killed, with all its memory). An attached
        kernel is someone else's: asked first."""
        self.interrupt_sent_at = None
        kernel = self.app.kernel
        if not kernel.attached:
            ask(self, self.Restarted, kernel.restart)
            return
        from tui.screens.confirm import restart_attached

        def answered(yes: bool | None) -> None:
            if yes:
                ask(self, self.Restarted, kernel.restart)

        self.app.push_screen(restart_attached(kernel.existing_name), answered)

    def on_playground_screen_restarted(self, answer: Restarted) -> None:
        # (the session reports a restart's progress and failures as kernel events, shown in the
        # log; this is only what escaped it)
        if answer.error:
            self.output.write_note(t("pg.kernel_failed", error=answer.error), "bold red")

    def _fit(self, width: int, height: int) -> None:
        """Below VARS_MIN_WIDTH columns the variables pane folds away (f6 brings it back), so that
        tensor rows get the width: 78 columns of output at 80."""
        super()._fit(width, height)
        shown = self._vars_chosen if self._vars_chosen is not None else width >= VARS_MIN_WIDTH
        self.set_class(not shown, "-vars-folded")

    def action_toggle_variables(self) -> None:
        self._vars_chosen = self.has_class("-vars-folded")
        self.set_class(not self._vars_chosen, "-vars-folded")
        if not self._vars_chosen and self.focused is self.query_one("#vars"):
            self.editor.focus()

    def action_clear(self) -> None:
        self.output.clear()

    def on_key(self, event) -> None:
        """A printable key that no widget took (Escape moved focus off the editor, a click went to
        the log or the variables) is typing: it goes to the editor, as in any REPL, not nowhere."""
        if not event.is_printable or event.character is None or self.focused is self.live:
            return
        target = self.stdin.query_one("#stdin-input") if self.stdin.shown else self.editor
        if self.focused is target or not target.display:
            return
        event.stop()
        target.focus()
        if target is self.editor:
            self.editor.insert(event.character)
        else:
            cast("Input", target).insert_text_at_cursor(event.character)

    def action_focus_editor(self) -> None:
        self.completions.close()
        (self.stdin.query_one("#stdin-input") if self.stdin.shown else self.editor).focus()

    def _live_news(self, news: LiveSeries) -> None:
        if self.live is None:  # made at the first live() call: plotext is not loaded before
            from tui.widgets.live_panel import LivePanel

            self.live = LivePanel()
            self.query_one("#pg-left").mount(self.live, after="#live-line")
        first = not self.live.shown
        self.live.take(news)
        if first:
            self.notify(t("live.appeared"), timeout=6)
            self.refresh_bindings()  # ctrl+g now has something to show

    def action_live(self) -> None:
        """ctrl+g: to the live plots (showing them); from them, hide them and back to the editor."""
        if self.live is None or not self.live.series:
            self.notify(t("live.nothing"), severity="warning")
        elif self.focused is self.live:
            self.live.remove_class("-shown")
            self.editor.focus()
        else:
            self.live.add_class("-shown")
            self.live.dirty = True
            self.live.focus()

    def action_cycle_focus(self) -> None:
        first = self.stdin.query_one("#stdin-input") if self.stdin.shown else self.editor
        order = [first, self.output] + ([] if self.has_class("-vars-folded") else [self.query_one("#vars")])
        order += [self.live] if self.live is not None and self.live.shown else []
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
