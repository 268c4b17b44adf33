"""F3 Autograd: the graph that operations built, and backward() running node by node."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.protocol import CheckGradients, GradExample, GradValues, Inspected
from tui.asking import Answer, ask, forget, stale
from tui.i18n import language, said_text, t
from tui.screens.base import BaseScreen
from tui.screens.pickers import Picker

if TYPE_CHECKING:
    from engine.autograd import Recording


class ExamplePicker(Picker):
    TITLE_KEY = "ag.pick_example"

    def entries(self, text: str) -> list[tuple[str, str]]:
        from engine.grad_examples import EXAMPLES

        low = text.lower()
        titles = {e.key: f"{t(f'ag.example.{e.key}.name')}: {t(e.title)}" for e in EXAMPLES.values()}
        return [(title, key) for key, title in titles.items() if low in key or low in title.lower()]


class ValuesScreen(ModalScreen):
    """Full values of the current step's tensors; Escape closes."""

    DEFAULT_CSS = """
    ValuesScreen { align: center middle; }
    ValuesScreen > VerticalScroll { width: 95%; height: 90%; border: round $accent; background: $surface; }
    """
    BINDINGS = [Binding("escape,q,enter", "close", "key.close", id="values.close")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(self.text))

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss()


class AutogradScreen(BaseScreen):
    """Step through a recorded backward pass of an example or of the user's own tensors."""

    DEFAULT_CSS = """
    #ag-title { height: 1; padding: 0 1; }
    #ag-graph-box { height: 8; border: round $primary; }
    #ag-step-box { height: 1fr; border: round $accent; }
    """

    class ExampleBuilt(Answer):
        """A built-in example, built and recorded in the kernel."""

    class Checked(Answer):
        """The gradient check of a recording (finite differences in the kernel)."""

    class Values(Answer):
        """The full values of one step's tensors."""

    TITLE_KEY = "screen.autograd"
    BINDINGS = [
        Binding("n,right", "step(1)", "ag.next", id="ag.next", tooltip="tip.ag.next"),
        Binding("p,left", "step(-1)", "ag.prev", id="ag.prev", tooltip="tip.ag.prev"),
        # priority: a scrolled pane with focus would take Home/End for itself
        Binding("home", "jump('first')", "ag.first", id="ag.first", tooltip="tip.ag.first", show=False,
                priority=True),
        Binding("end", "jump('last')", "ag.last", id="ag.last", tooltip="tip.ag.last", show=False,
                priority=True),
        Binding("f", "view('forward')", "ag.forward", id="ag.forward", tooltip="tip.ag.forward"),
        Binding("b", "view('backward')", "ag.backward", id="ag.backward", tooltip="tip.ag.backward"),
        Binding("g", "check", "ag.check", id="ag.check", tooltip="tip.ag.check"),
        Binding("e", "choose_example", "ag.example", id="ag.example", tooltip="tip.ag.example"),
        Binding("enter", "values", "ag.values", id="ag.values", tooltip="tip.ag.values"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.recording: Recording | None = None
        self.forward_rows: tuple = ()
        self.token = 0  # the kernel's handle on this recording (for the check and full values)
        self.checkable = False
        self.load_error = ""  # why the example asked for last could not be shown
        self.passes = 1
        self.check_note = ""
        self.title_text = ""
        self.code = ""
        self.lesson = ""
        self.index = 0
        self.view_mode = "backward"
        self.check_text = ""

    def compose_body(self) -> ComposeResult:
        yield Static("", id="ag-title")
        with VerticalScroll(id="ag-graph-box"):
            yield Static(t("ag.loading"), id="ag-graph")
        with VerticalScroll(id="ag-step-box"):
            yield Static("", id="ag-step")

    def on_mount(self) -> None:
        if self.recording is None:
            self.load_example("scalar")

    def body_ready(self) -> None:
        # the step pane has focus: ↑/↓ and PgUp/PgDn scroll a step whose tensors do not fit
        self.query_one("#ag-step-box").focus()
        self._show_load_error()
        self.redraw()

    # --- loading ----------------------------------------------------------------------------
    def load_example(self, key: str) -> None:
        """Build and record a built-in example in the kernel, then show it."""
        kernel = self.app.kernel
        ask(self, self.ExampleBuilt, lambda: kernel.request(GradExample(key)))

    def on_autograd_screen_example_built(self, answer: ExampleBuilt) -> None:
        if stale(self, answer):  # another example, or a %autograd recording, was shown since
            return
        if answer.error:  # the kernel is gone or failed: say so where the graph would be
            self.load_error = t("ag.load_failed", error=answer.error)
            self._show_load_error()
            return
        self.load_error = ""
        self._show(answer.result)

    def _show_load_error(self) -> None:
        if self.ready and self.load_error:
            self.query_one("#ag-graph", Static).update(Text(self.load_error, style="red"))

    def show_inspection(self, payload: Inspected) -> None:
        """Show a recording made by %autograd in the Playground."""
        forget(self, self.ExampleBuilt)  # an example still being built would replace it
        self._show(payload)

    def _show(self, payload: Inspected) -> None:
        self.recording, self.forward_rows = payload.recording, payload.forward_rows
        self.token, self.checkable, self.passes = payload.token, payload.checkable, payload.passes
        key = payload.example
        self.title_text = f"{t(f'ag.example.{key}.name')}: {t(f'ag.example.{key}.title')}" if key else payload.title
        self.lesson = t(f"ag.example.{key}.lesson") if key else ""
        self.code = payload.code
        self.check_note = t(payload.note) if payload.note else ""
        self.index, self.view_mode, self.check_text = 0, "backward", ""
        self.redraw()

    # --- drawing ----------------------------------------------------------------------------
    def redraw(self) -> None:
        if self.recording is None or not self.ready:
            return
        from engine.grad_text import graph_lines

        steps = self.recording.steps
        step = steps[self.index] if steps else None
        current = step.node if step else None
        header = Text.assemble((self.title_text, "bold"), "  ",
                               (t("ag.step_of", index=self.index + 1, total=len(steps)), "cyan"))
        self.query_one("#ag-title", Static).update(header)
        graph = Text()
        marked = 0
        lines = graph_lines(self.recording.graph, current, language())
        # the rows its graph needs (and its frame), up to half the screen; the step gets the rest
        self.query_one("#ag-graph-box").styles.height = max(4, min(len(lines) + 2, self.app.size.height // 2))
        for number, line in enumerate(lines):
            here = line.lstrip("│├└─ ").startswith("▶")
            marked = number if here else marked
            graph.append(line + "\n", style="bold reverse" if here else "")
        self.query_one("#ag-graph", Static).update(graph)
        body = {"backward": self._step_text, "forward": self._forward_text, "check": self._check_text}
        self.query_one("#ag-step", Static).update(body[self.view_mode](step))
        self.query_one("#ag-step-box", VerticalScroll).scroll_home(animate=False)
        self.call_after_refresh(self._follow, marked)

    def _follow(self, line: int) -> None:
        """Keep the ▶ node in view in the graph pane (a third of the way down when it must move)."""
        box = self.query_one("#ag-graph-box", VerticalScroll)
        height = box.scrollable_content_region.height
        if not box.scroll_y <= line < box.scroll_y + height:
            box.scroll_to(y=max(0, line - height // 3), animate=False)

    def _tensor_line(self, label: str, view) -> Text:
        if view is None:
            return Text(f"  {label}: None", style="dim")
        return Text.assemble(f"  {label}: ", (view.value, "bold"), ("  " + view.summary.line(language()), "dim"))

    def _step_text(self, step) -> Text:
        if step is None:
            return Text(t("ag.no_steps"))
        from engine.grad_text import destination

        assert self.recording is not None  # (a step is shown only from a recording)
        graph = self.recording.graph
        node = graph.node(step.node)
        out = Text()
        if self.lesson and self.index == 0:
            out.append(self.lesson + "\n", style="italic")
        pass_note = f" · {t('ag.pass', n=step.backward_pass)}" if self.passes > 1 else ""
        out.append(f"#{node.id} {node.title()}{pass_note}\n", style="bold")
        out.append(said_text(step.formula) + "\n", style="yellow")
        out.append_text(self._tensor_line(t("ag.grad_in"), step.grad_in[0] if step.grad_in else None))
        out.append("\n")
        for i, g in enumerate(step.grad_out):
            target = node.inputs[i] if i < len(node.inputs) else None
            dest = destination(graph, node, i, language()) if target is not None else t("ag.no_grad_input")
            out.append_text(self._tensor_line(f"{t('ag.to')} {dest}", g))
            out.append("\n")
        if node.is_leaf:
            out.append_text(self._tensor_line(f"{node.label}.grad {t('ag.before')}", step.grad_before))
            out.append("\n")
            out.append_text(self._tensor_line(f"{node.label}.grad {t('ag.after')}", step.grad_after))
            out.append("\n")
        for name, value in node.saved:
            if hasattr(value, "summary"):
                out.append_text(self._tensor_line(f"{t('ag.saved')} {name}", value))
            else:
                out.append(f"  {t('ag.saved')} {name}: {value}", style="dim")
            out.append("\n")
        return out

    def _forward_text(self, _step) -> Text:
        out = Text(t("ag.forward_title") + "\n", style="bold")
        if self.code:
            out.append(self.code + "\n\n", style="cyan")
        for row in self.forward_rows:
            mark = "●" if row.requires_grad else "○"
            out.append(f"{mark} {row.name} {tuple(row.shape)} requires_grad={row.requires_grad}"
                       + (f" grad_fn={row.grad_fn}" if row.grad_fn else "") + "\n",
                       style="bold" if row.requires_grad else "")
            out.append(f"    {said_text(row.why)}\n", style="dim")
        return out

    def _check_text(self, _step) -> Text:
        return Text(self.check_text or t("ag.checking"))

    # --- actions ----------------------------------------------------------------------------
    def action_step(self, delta: int) -> None:
        if self.recording and self.recording.steps:
            self.index = max(0, min(len(self.recording.steps) - 1, self.index + delta))
            self.view_mode = "backward"
            self.redraw()

    def action_jump(self, where: str) -> None:
        if self.recording and self.recording.steps:
            self.index = 0 if where == "first" else len(self.recording.steps) - 1
            self.view_mode = "backward"
            self.redraw()

    def action_view(self, mode: str) -> None:
        self.view_mode = mode
        self.redraw()

    def action_check(self) -> None:
        if self.recording is None:
            return
        self.view_mode, self.check_text = "check", ""
        self.redraw()
        self._run_check()

    def _run_check(self) -> None:
        if not self.checkable:
            self._show_check(t("ag.check_unavailable") + ("\n" + self.check_note if self.check_note else ""))
            return
        kernel, token = self.app.kernel, self.token
        ask(self, self.Checked, lambda: kernel.request(CheckGradients(token)), token=token)

    def on_autograd_screen_checked(self, answer: Checked) -> None:
        """Finite differences of the forward re-run in float64 in the kernel, on copies of what it used."""
        if stale(self, answer) or answer.context["token"] != self.token:
            return
        if answer.error:
            self._show_check(t("ag.check_failed", error=answer.error))
            return
        check = answer.result  # its lines are said by the engine, worded here in the reader's language
        lines = [t("check.title"), *("  " + line for line in check.lines(language())), said_text(check.summary())]
        if self.check_note and not check.passed:
            lines.append(self.check_note)
        self._show_check("\n".join(lines))

    def _show_check(self, text: str) -> None:
        self.check_text = text
        self.redraw()

    def action_choose_example(self) -> None:
        def chosen(key: str | None) -> None:
            if key:
                self.load_example(key)

        self.app.push_screen(ExamplePicker(), chosen)

    def action_values(self) -> None:
        if not self.recording or not self.recording.steps:
            return
        kernel, token, index = self.app.kernel, self.token, self.index
        ask(self, self.Values, lambda: kernel.request(GradValues(token, index)),
            token=token, index=index)

    def on_autograd_screen_values(self, answer: Values) -> None:
        if stale(self, answer) or answer.context["token"] != self.token:
            return
        if answer.error:
            self.notify(t("ag.load_failed", error=answer.error), severity="error")
            return
        if self.recording is None:
            return
        node = self.recording.graph.node(self.recording.steps[answer.context["index"]].node)
        labels = {"grad_in": lambda n: t("ag.grad_in"), "to": lambda n: f"{t('ag.to')} {n}",
                  "after": lambda n: f"{n}.grad {t('ag.after')}", "saved": lambda n: f"{t('ag.saved')} {n}"}
        parts = [f"#{node.id} {node.title()}"]
        for entry in answer.result:
            parts.append(f"{labels[entry.kind](entry.name)} {entry.summary}\n{entry.values}")
        self.app.push_screen(ValuesScreen("\n\n".join(parts)))
