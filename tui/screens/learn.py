"""F5 Learn: a runnable tour of PyTorch basics, in English and Chinese, with checked exercises."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from engine.protocol import TourCheck
from engine.tasks import DEFAULT_TASK
from tui import i18n
from tui.asking import Answer, ask, stale
from tui.i18n import said_text, t
from tui.screens.base import BaseScreen
from tui.widgets.wrapped import Wrapped


class LearnScreen(BaseScreen):
    """Chapters on the left, the lesson on the right; keys run examples and check exercises."""

    class Checked(Answer):
        """The kernel's verdict on a chapter's exercise."""

    DEFAULT_CSS = """
    #ln-chapters { width: 30; height: 1fr; border: none; border-right: vkey $primary; }
    #ln-lesson { width: 1fr; padding: 0 1; }
    """

    TITLE_KEY = "screen.learn"
    BINDINGS = [
        Binding("1", "run_example(0)", "ln.run1", id="ln.run1", tooltip="tip.ln.run", key_display="1-4"),
        # no description: "1-4" above names all four, in the footer and in F1
        Binding("2", "run_example(1)", id="ln.run2", show=False),
        Binding("3", "run_example(2)", id="ln.run3", show=False),
        Binding("4", "run_example(3)", id="ln.run4", show=False),
        Binding("c", "check", "ln.check", id="ln.check", tooltip="tip.ln.check"),
        Binding("o", "open", "ln.open", id="ln.open", tooltip="tip.ln.open"),
        Binding("n", "move(1)", "ln.next", id="ln.next", tooltip="tip.ln.next"),
        Binding("p", "move(-1)", "ln.prev", id="ln.prev", tooltip="tip.ln.prev", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        from engine.tour import Progress, chapters

        self.chapters = chapters(i18n.language())
        self.progress = Progress()
        self.index = 0
        self.feedback: Text | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="ln-main"):
            yield OptionList(id="ln-chapters")
            with VerticalScroll(id="ln-lesson"):
                yield Static("", id="ln-text")

    def body_ready(self) -> None:
        self._say_progress_warning()
        ids = [c.id for c in self.chapters]
        self.index = ids.index(self.progress.current) if self.progress.current in ids else 0
        self._fill_list()
        chapters = self.query_one("#ln-chapters", OptionList)
        chapters.highlighted = self.index
        chapters.focus()
        self._show()

    def _label(self, i: int) -> str:
        ch = self.chapters[i]
        read = "●" if ch.id in self.progress.read else "○"
        passed = "✓" if ch.id in self.progress.passed else " "
        return f"{read}{passed} {ch.title}"

    def _fill_list(self) -> None:
        chapters = self.query_one("#ln-chapters", OptionList)
        keep = chapters.highlighted
        chapters.clear_options()
        # a long title's second line hangs under the title, not under the marks
        chapters.add_options([Option(Wrapped(self._label(i), hang=3)) for i in range(len(self.chapters))])
        if keep is not None:
            chapters.highlighted = keep

    @on(OptionList.OptionHighlighted, "#ln-chapters")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.index:
            self.index = event.option_index
            self.feedback = None
            self._show()

    def _show(self) -> None:
        ch = self.chapters[self.index]
        # prose is broken the Chinese way (Rich breaks only at spaces); code keeps Rich's wrapping
        parts: list[RenderableType] = [Wrapped(ch.title, style="bold underline"), Text(""), Wrapped(ch.body),
                                       Text("")]
        if ch.shell:
            parts.append(Wrapped(t("tour.shell"), style="bold cyan"))
            parts.append(Syntax("\n".join(ch.shell), "bash", theme="ansi_dark", background_color="default",
                                word_wrap=True))
            parts.append(Text(""))
        for i, example in enumerate(ch.examples, 1):
            parts.append(Wrapped(t("ln.example", n=i, title=example.title), style="bold cyan"))
            parts.append(Syntax(example.code, "python", theme="ansi_dark", background_color="default",
                                word_wrap=True))
            if example.varies:
                parts.append(Wrapped(t("tour.varies", why=example.varies), style="dim italic"))
        parts.append(Text(""))
        parts.append(Wrapped(Text.assemble((t("ln.exercise") + " ", "bold yellow"), ch.exercise)))
        parts.append(Wrapped(t("ln.keys_open") if ch.opens else t("ln.keys"), style="dim"))
        if self.feedback is not None:
            parts.append(Wrapped(self.feedback))
        self.query_one("#ln-text", Static).update(Group(*parts))
        lesson = self.query_one("#ln-lesson", VerticalScroll)
        if self.feedback is not None:
            self.call_after_refresh(lesson.scroll_end, animate=False)
        else:
            lesson.scroll_home(animate=False)
        if ch.id not in self.progress.read or self.progress.current != ch.id:
            self.progress.mark_read(ch.id)
            self._say_progress_warning()
            self._fill_list()

    def _say_progress_warning(self) -> None:
        """Once: progress that cannot be saved (read-only state folder, full disk) or read."""
        if self.progress.warning:
            self.notify(self.progress.warning, severity="warning", timeout=10)
            self.progress.warning = ""

    # --- actions ----------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        self.index = max(0, min(len(self.chapters) - 1, self.index + delta))
        self.feedback = None
        self.query_one("#ln-chapters", OptionList).highlighted = self.index
        self._show()

    def action_run_example(self, n: int) -> None:
        ch = self.chapters[self.index]
        if n >= len(ch.examples):
            self.notify(t("ln.no_example", n=n + 1), severity="warning")
            return
        example = ch.examples[n]
        if example.needs:  # it uses the names those examples make: they run first, in order
            numbers = [i + 1 for i, e in enumerate(ch.examples) if e.id in example.needs]
            self.notify(t("ln.runs_first", n=n + 1, first=", ".join(map(str, numbers))), timeout=4)
        sources = [*(e.code for e in ch.examples if e.id in example.needs), example.code]
        # in the Playground, as cells: they join the history like typed ones
        self.app.navigate("playground", lambda screen: [screen.run_source(source) for source in sources])

    def action_check(self) -> None:
        self._check(self.chapters[self.index])

    def _check(self, chapter) -> None:
        """The checks run in the kernel, over the namespace the Playground's cells built."""
        kernel = self.app.kernel
        ask(self, self.Checked, lambda: kernel.request(TourCheck(chapter.id)), chapter=chapter)

    def on_learn_screen_checked(self, answer: Checked) -> None:
        if stale(self, answer):
            return
        if answer.error:  # no kernel, or it died: say so instead of a verdict
            self.notify(t("ln.check_failed", error=answer.error), severity="error")
            return
        self._checked(answer.context["chapter"], answer.result)

    def _checked(self, chapter, result) -> None:
        if result.passed:
            self.progress.mark_passed(chapter.id)
            self._say_progress_warning()
            self.feedback = Text(t("ln.passed"), style="bold green")
            self.notify(t("ln.passed"))
            self._fill_list()
        else:
            self.feedback = Text(t("ln.not_yet", hint=said_text(result.hint)), style="bold red")
        if self.chapters[self.index].id == chapter.id:
            self._show()

    def action_open(self) -> None:
        """The screen that shows this chapter: `autograd:EXAMPLE`, `train`, `train:TASK`,
        `train:ddp` (the regression on two processes) or `model:NAME, INPUT` (the Model view of
        the Playground's NAME, as %model NAME, INPUT shows it)."""
        screen, _, arg = (self.chapters[self.index].opens or "").partition(":")
        if screen == "autograd":
            self.app.navigate("autograd", lambda screen: screen.load_example(arg or "scalar"))
        elif screen == "model":
            name, _, sample = arg.partition(",")
            self.app.navigate("model", lambda screen: screen.describe(name.strip(), sample.strip()))
        elif screen == "train" and arg == "ddp":  # (several ranks: gloo, so the CPU on any machine)
            self.app.navigate("train", lambda screen: screen.start_defaults(DEFAULT_TASK, "cpu", processes=2))
        elif screen == "train":
            device = self.app.device_spec
            self.app.navigate("train", lambda screen: screen.start_defaults(arg or DEFAULT_TASK, device))
        else:
            self.notify(t("ln.nothing_to_open"), severity="warning")
