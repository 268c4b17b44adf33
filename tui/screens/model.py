"""F10 Model: any nn.Module of the namespace as a tree of its named children, with each layer's
parameters, output shape for a sample input (F7: the last Training run's first batch), and
gradient norm after a backward."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Select, Static, Tree

from engine.model_view import RUN_BATCH, count_text, node_line, size_text, totals_line
from engine.protocol import DescribeModel, ModelNames
from tui.asking import Answer, ask, stale
from tui.bindings import keys_of
from tui.i18n import counted, language, t
from tui.screens.base import BaseScreen
from tui.widgets.wrapped import Wrapped

if TYPE_CHECKING:
    from engine.model_view import LayerNode, ModelSummary

EXPAND_ALL_UP_TO = 60  # a model this small opens whole; a bigger one shows its first two levels
EXPAND_DEPTH = 2


class ModelScreen(BaseScreen):
    """Pick a module, give it a sample input, and read its tree."""

    DEFAULT_CSS = """
    #mv-form { height: 1; padding: 0 1; }
    #mv-form Static { width: auto; padding: 0 1 0 0; }
    #mv-name { width: 32; margin: 0 2 0 0; }
    #mv-input { width: 1fr; }
    #mv-totals { height: auto; max-height: 6; padding: 0 1; }
    #mv-totals.-error { color: $error; }
    #mv-tree { height: 1fr; border: round $primary; }
    #mv-detail { height: 3; padding: 0 1; }
    """

    class Described(Answer):
        """A module's summary, from the kernel."""

    class Named(Answer):
        """The namespace's modules, for the picker."""

    TITLE_KEY = "screen.model"
    BINDINGS = [
        Binding("ctrl+r", "refresh", "mv.refresh", id="mv.refresh", tooltip="tip.mv.refresh"),
        Binding("f6", "toggle_all", "mv.expand", id="mv.expand", tooltip="tip.mv.expand"),
        Binding("f7", "run_batch", "mv.batch", id="mv.batch", tooltip="tip.mv.batch"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.summary: ModelSummary | None = None
        self.names: tuple[tuple[str, str], ...] = ()
        self.error = ""  # why the last question got no summary
        self.asked: tuple[str, str] | None = None  # the (name, input) asked for last
        self._expanded = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="mv-form"):
            yield Static(t("mv.model"))
            yield Select([], prompt=t("mv.pick"), id="mv-name", compact=True)
            yield Static(t("mv.input"))
            yield Input(placeholder=t("mv.input_hint", batch=RUN_BATCH, key=self._batch_key()), id="mv-input",
                        compact=True)
        yield Static(t("mv.loading"), id="mv-totals")
        tree: Tree[int] = Tree("", id="mv-tree")
        tree.guide_depth = 2  # (four cells a level would push a deep model's lines off 80 columns)
        tree.show_root = True
        tree.auto_expand = False  # Enter shows a layer's details; space and the mouse open and close it
        yield tree
        yield Static("", id="mv-detail")

    def body_ready(self) -> None:
        self.query_one("#mv-tree").focus()
        if self.summary is None:
            self.ask_names()
        else:
            self._show_summary()

    def on_screen_resume(self) -> None:
        if self.ready:  # back on this screen: the namespace may hold other models now
            self.ask_names()

    # --- asking -----------------------------------------------------------------------------
    def ask_names(self) -> None:
        kernel = self.app.kernel
        ask(self, self.Named, lambda: kernel.request(ModelNames()))

    def describe(self, name: str, source: str) -> None:
        """Ask the kernel for `name`'s summary with the sample input `source`."""
        self.asked = (name, source)
        kernel = self.app.kernel
        ask(self, self.Described, lambda: kernel.request(DescribeModel(name, source)))

    def show_summary(self, summary: ModelSummary) -> None:
        """Show a summary made elsewhere (%model in the Playground)."""
        self.asked = (summary.name, summary.input_text)
        self._take(summary)
        if self.ready:
            self.ask_names()

    @on(Named)
    def _named(self, answer: Named) -> None:
        if stale(self, answer) or answer.error:  # (no kernel yet: the next visit asks again)
            if answer.error and self.summary is None:
                self._say_error(answer.error)
            return
        self.names = tuple(answer.result)
        self._fill_picker()
        if self.summary is None and self.asked is None:
            if self.names:
                self.describe(self.names[0][0], self.query_one("#mv-input", Input).value)
            else:
                self._say(t("mv.none"))

    @on(Described)
    def _described(self, answer: Described) -> None:
        if stale(self, answer):
            return
        if answer.error:
            self._say_error(answer.error)
            return
        self._take(answer.result)

    def _take(self, summary: ModelSummary) -> None:
        self.summary, self.error = summary, ""
        if self.ready:
            self._show_summary()

    # --- the form ---------------------------------------------------------------------------
    def _fill_picker(self) -> None:
        picker = self.query_one("#mv-name", Select)
        options = [(f"{name} ({cls})", name) for name, cls in self.names]
        current = self.summary.name if self.summary is not None else None
        if current and current not in {name for name, _ in self.names}:  # a submodule (%model net.encoder)
            options.insert(0, (current, current))
        with picker.prevent(Select.Changed):  # (filling the list is no choice of the learner's)
            picker.set_options(options)
            if current:
                picker.value = current

    @on(Select.Changed, "#mv-name")
    def _picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and (self.summary is None or event.value != self.summary.name):
            self.describe(event.value, self.query_one("#mv-input", Input).value)

    @on(Input.Submitted, "#mv-input")
    def _input_given(self, event: Input.Submitted) -> None:
        name = self._chosen()
        if name:
            self.describe(name, event.value)
        self.query_one("#mv-tree").focus()

    def _chosen(self) -> str:
        value = self.query_one("#mv-name", Select).value
        if isinstance(value, str):
            return value
        return self.summary.name if self.summary is not None else ""

    # --- drawing ----------------------------------------------------------------------------
    def _say(self, words: str | Text, error: bool = False, input_error: bool = False) -> None:
        totals = self.query_one("#mv-totals", Static)
        totals.update(Wrapped(words))
        totals.set_class(error, "-error")
        totals.set_class(input_error, "-input-error")

    def _say_error(self, words: str) -> None:
        self.error = words
        if self.ready:
            self._say(words, error=True)

    def _show_summary(self) -> None:
        summary = self.summary
        if summary is None:
            return
        lang = language()
        error = summary.input_error
        # the sentence alone in the error's colour, under the totals, which stand
        plain = summary if error is None else dataclasses.replace(summary, input_error=None, input_text="")
        words = Text(totals_line(plain, lang))
        if error is not None:
            words.append("\n" + error.words(lang), style="bold red")
        self._say(words, input_error=error is not None)
        self.query_one("#mv-input", Input).value = summary.input_text
        self._fill_picker()
        tree: Tree[int] = self.query_one("#mv-tree", Tree)
        tree.clear()
        whole = len(summary.nodes) <= EXPAND_ALL_UP_TO
        self._expanded = whole
        parents = [tree.root]
        tree.root.set_label(Text(node_line(summary.nodes[0], summary, lang)))
        tree.root.data = 0
        tree.root.expand()
        for index, node in enumerate(summary.nodes[1:], 1):
            del parents[node.depth:]
            parent = parents[-1]
            label = Text(node_line(node, summary, lang))
            if node.children and not node.shared_with:
                branch = parent.add(label, data=index, expand=whole or node.depth < EXPAND_DEPTH)
                parents.append(branch)
            else:
                parent.add_leaf(label, data=index)
        if summary.left_out:
            more = t(counted("mv.left_out", summary.left_out), n=f"{summary.left_out:,}")
            tree.root.add_leaf(Text(more, style="dim"))
        tree.move_cursor(tree.root)
        self._show_detail(summary.nodes[0])

    @on(Tree.NodeHighlighted, "#mv-tree")
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        if self.summary is not None and isinstance(event.node.data, int):
            self._show_detail(self.summary.nodes[event.node.data])

    def _show_detail(self, node: LayerNode) -> None:
        summary = self.summary
        assert summary is not None
        parts = [node.path or summary.name, node.class_name, t("mv.train_mode") if node.training else t("mv.eval_mode")]
        if node.device:
            parts.append(node.device)
        for p in node.parameters:
            own = f"{p.name} {p.shape} {p.dtype}" + ("" if p.trainable else " " + t("mv.frozen"))
            if p.grad_norm is not None:
                own += " " + t("mv.grad", norm=f"{p.grad_norm:.3g}")
            parts.append(own)
        if node.trainable or node.frozen:
            parts.append(t("mv.counts", trainable=count_text(node.trainable), frozen=count_text(node.frozen),
                           size=size_text(node.nbytes)))
        if node.output_shape:
            parts.append(t("mv.output", shape=node.output_shape, dtype=node.output_dtype))
        if node.shared_with:
            parts.append(t("mv.shared", path=node.shared_with))
        self.query_one("#mv-detail", Static).update(Wrapped(" · ".join(parts)))

    # --- keys -------------------------------------------------------------------------------
    def action_refresh(self) -> None:
        """Ask again: after a backward, the gradients; after a cell, the namespace's modules."""
        self.ask_names()
        name = self._chosen()
        if name:
            self.describe(name, self.query_one("#mv-input", Input).value)

    def _batch_key(self) -> str:
        """The key that gives the run's batch, as the user's keymap has it (F7 unless remapped)."""
        binding = next(b for b in Binding.make_bindings(self.BINDINGS) if b.id == "mv.batch")
        return keys_of(binding, getattr(self.app, "user_keys", {}))

    def action_run_batch(self) -> None:
        """The last Training run's first batch as the input (what typing @batch gives)."""
        self.query_one("#mv-input", Input).value = RUN_BATCH
        name = self._chosen()
        if name:
            self.describe(name, RUN_BATCH)
        self.query_one("#mv-tree").focus()

    def action_toggle_all(self) -> None:
        tree = self.query_one("#mv-tree", Tree)
        self._expanded = not self._expanded
        if self._expanded:
            tree.root.expand_all()
        else:
            for child in tree.root.children:
                child.collapse_all()
