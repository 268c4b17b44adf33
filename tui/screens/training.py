"""F4 Training: the linear regression trains in a thread of the kernel while the plots here stay live."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static

from engine.protocol import (
    OwnNames,
    Request,
    TrainData,
    TrainFinished,
    TrainHealth,
    TrainPause,
    TrainProgress,
    TrainRate,
    TrainResume,
    TrainShown,
    TrainStart,
    TrainStop,
)
from engine.tasks import TASKS, Setting, form_settings, task
from tui.asking import Answer, ask, stale
from tui.i18n import counted, said_text, t
from tui.screens.base import BaseScreen
from tui.widgets.health_panel import HealthPanel
from tui.widgets.own_pickers import OwnPickers
from tui.widgets.plots import BoundaryPlot, FitPlot, LossPlot
from tui.widgets.wrapped import Wrapped

if TYPE_CHECKING:
    from engine.training import Progress, Result, RunConfig

TYPED = ("int", "float", "text")  # the kinds of setting typed into an Input
REDRAW_HZ = 10  # the status line and progress bar (the kernel sends the trainer's events as often)
PLOT_HZ = 2  # the plots while a run goes: each redraw takes the CPU and the GIL from training
TYPING_PAUSE_S = 0.5  # live plots wait this long after a key press
TYPING_STATUS_S = 1.0  # while typing during a run, the status line is redrawn this often
FOLD_BELOW_ROWS, FOLD_BELOW_COLUMNS = 34, 110  # a run on a smaller terminal folds the form away
ETA_AFTER_S = 5.0  # runs longer than this show an estimate of the time left


class TrainingScreen(BaseScreen):
    """A config form, live status, the loss and fit plots, and exports."""

    # The focused field shows at once: its label in reverse video and the field in the accent
    # colour (one shade of background was all it had). Each plot keeps 6 rows at least: should
    # the status need more rows than are left, the right side scrolls rather than cut a line.
    DEFAULT_CSS = """
    #tr-form { width: 30; border-right: vkey $primary; }
    .field { height: 1; }
    .field-label { width: 11; }
    .field.-focused .field-label { text-style: bold reverse; }
    .field-input { width: 1fr; height: 1; border: none; padding: 0; }
    .field-input:focus { border: none; background: $accent 45%; }
    .field-input.-bad { background: $error 40%; }
    .field-input.-bad:focus { background: $error 70%; }
    #tr-form Select { width: 1fr; }
    #tr-form Select:focus > SelectCurrent { background: $accent 45%; }
    #tr-form Checkbox:focus > .toggle--label { text-style: bold reverse; }
    #tr-form-error { height: auto; }
    #tr-buttons { height: 1; }
    #tr-buttons Button { margin-right: 1; min-width: 7; }
    #tr-right { width: 1fr; overflow-y: auto; }
    #tr-summary { display: none; height: auto; padding: 0 1; color: $text-muted; }
    TrainingScreen.-form-folded #tr-form { display: none; }
    TrainingScreen.-form-folded #tr-summary { display: block; }
    #tr-status { height: auto; padding: 0 1; }
    #tr-progress { height: 1; padding: 0 1; }
    TrainingScreen.-done.-short #tr-progress { display: none; }
    #tr-plots { height: 1fr; }
    #tr-curves { height: 1fr; min-height: 11; }
    #loss-plot { height: 1fr; min-height: 11; }
    #acc-plot { height: 1fr; min-height: 11; display: none; }
    #fit-plot { height: 1fr; min-height: 11; display: none; }
    #boundary-plot { height: 1fr; min-height: 11; display: none; }
    #step-plot { height: 1fr; min-height: 11; display: none; }
    TrainingScreen.-plot-steps #step-plot { display: block; }
    TrainingScreen.-short #tr-plots { layout: horizontal; }
    TrainingScreen.-short #tr-plots > * { width: 1fr; }
    TrainingScreen.-short.-second-curve #tr-curves { width: 2fr; }
    TrainingScreen.-second-curve #acc-plot { display: block; }
    TrainingScreen.-plot-boundary #boundary-plot { display: block; }
    TrainingScreen.-plot-fit #fit-plot { display: block; }
    #tr-form .-not-this-task { display: none; }
    /* the gradient-health panel (ctrl+g): under the plots on a tall terminal; on a short one it
       takes the place of the plot beside the loss curve */
    #health-panel { display: none; height: 14; }
    TrainingScreen.-health #health-panel { display: block; }
    TrainingScreen.-short.-health #health-panel { height: 1fr; width: 48; }
    TrainingScreen.-short.-health #fit-plot { display: none; }
    TrainingScreen.-short.-health #boundary-plot { display: none; }
    TrainingScreen.-short.-health #acc-plot { display: none; }
    TrainingScreen.-short.-health #tr-curves { width: 1fr; }
    """

    class Started(Answer):
        """The kernel took the run (its progress then comes as kernel news), or refused it."""

    class Controlled(Answer):
        """The kernel took a pause, resume or stop."""

    class NamesFound(Answer):
        """The namespace's names by kind, for the pickers of a task that trains the learner's objects."""

    TITLE_KEY = "screen.train"
    BINDINGS = [
        Binding("ctrl+r", "start", "tr.start", id="tr.start", tooltip="tip.tr.start", priority=True),
        Binding("f6", "pause", "tr.pause", id="tr.pause", tooltip="tip.tr.pause", priority=True),
        Binding("f7", "stop", "tr.stop", id="tr.stop", tooltip="tip.tr.stop", priority=True),
        # (before the log scale: at 80 columns the footer has room for five of these)
        Binding("ctrl+b", "toggle_form", "tr.form", id="tr.form", tooltip="tip.tr.form", priority=True),
        Binding("f9", "export", "tr.export", id="tr.export", tooltip="tip.tr.export", priority=True),
        Binding("f8", "toggle_log", "tr.log", id="tr.log", tooltip="tip.tr.log", priority=True),
        Binding("ctrl+g", "toggle_health", "tr.health", id="tr.health", tooltip="tip.tr.health", priority=True),
        Binding("ctrl+s", "toggle_smooth", "tr.smooth", id="tr.smooth", tooltip="tip.tr.smooth", priority=True,
                show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.running = False
        self.paused = False
        self.run_id = 0  # the run followed; the kernel tags each run's events with it (%train's: below 0)
        self.runs_started = 0  # this screen's count of runs started from the form
        self.step_losses: list[float] = []  # a task with a per-step plot: the loss of each step (or run of steps)
        self.step_x: list[float] = []
        self.own_names: dict[str, str] = {}  # the learner's objects of the run, by kind
        self.loss_history: list[float] = []
        self.previous_history: list[float] = []  # the loss of the run before this one of the same task
        self.last_history: dict[str, list[float]] = {}  # each task's latest run's loss
        self.curve_history: list[float] = []  # the task's second curve (the moons' accuracy), per epoch
        self.boundary = ""
        self.rank_rates: dict[int, float] = {}  # a data-parallel run: each rank's samples/s
        self.latest: Progress | None = None
        self.result: Result | None = None
        self.dirty = False
        self.config: RunConfig | None = None
        self._plotted_at = 0.0
        self._key_at = 0.0
        self._status_at = 0.0  # when the status line was last redrawn
        self._plotted_loss: tuple = ()
        self._plotted_fit: tuple | None = ()

    def compose_body(self) -> ComposeResult:
        from dataclasses import replace

        from engine.training import defaults

        initial = self.app.train_config or replace(defaults(), device=self.app.device_spec)
        self.form_task = initial.task
        self._mark_task(task(initial.task))  # (the rows are marked as they are made)
        schema = {s.name: s for s in task(initial.task).schema()}
        with Horizontal(id="tr-main"):
            with VerticalScroll(id="tr-form", can_focus=False):  # (Tab: the fields, not the form)
                with Horizontal(classes="field"):
                    yield Label(t("tr.f.task"), classes="field-label")
                    yield Select([(t(kind.words), name) for name, kind in TASKS.items()], value=initial.task,
                                 allow_blank=False, id="f-task", compact=True)
                yield OwnPickers(classes="" if task(initial.task).given else "-not-this-task")
                for s in self._settings:
                    value = getattr(initial, s.name)
                    hidden = "-not-this-task" if s.name not in schema else ""
                    if s.kind == "bool":
                        yield Checkbox(t(f"tr.f.{s.name}"), value=value, id=f"f-{s.name}", compact=True,
                                       classes=hidden)
                        continue
                    with Horizontal(classes=f"field {hidden}", id=f"row-{s.name}"):
                        yield Label(t(f"tr.f.{s.name}"), classes="field-label")
                        if s.kind == "choice":
                            yield Select([(o, o) for o in s.choices], value=value, allow_blank=False,
                                         id=f"f-{s.name}", compact=True)
                        else:
                            yield Input(str(value), id=f"f-{s.name}", classes="field-input", select_on_focus=False)
                yield Static("", id="tr-form-error")
                with Horizontal(id="tr-buttons"):
                    # Tab goes through the fields only: the buttons are for the mouse, and their keys
                    # (in the footer) do the same
                    for label, button_id, variant in (("tr.start", "b-start", "primary"), ("tr.pause", "b-pause", "default"),
                                                      ("tr.stop", "b-stop", "default")):
                        button = Button(t(label), id=button_id, compact=True, variant=variant)  # type: ignore[arg-type]
                        button.can_focus = False
                        yield button
            with Vertical(id="tr-right"):
                yield Static("", id="tr-summary")
                yield Static(Wrapped(t(task(initial.task).idle)), id="tr-status")
                yield ProgressBar(total=100, show_eta=False, id="tr-progress")
                # stacked on a tall terminal; side by side on a short one, where stacked plots
                # would each keep a row or two of curve (a plot needs 5 rows for its frame and words)
                with Vertical(id="tr-plots"):
                    with Horizontal(id="tr-curves"):
                        yield LossPlot()
                        yield LossPlot(id="acc-plot", x_label="plot.epoch")
                    yield FitPlot()
                    yield BoundaryPlot()
                    yield LossPlot(id="step-plot", x_label="plot.step")
                    yield HealthPanel()

    def body_ready(self) -> None:
        self.set_class(self.app.size.height < FOLD_BELOW_ROWS, "-short")
        self.query_one("#loss-plot", LossPlot).title = t("tr.plot.loss")
        self.query_one(FitPlot).title = t("tr.plot.fit")
        self.query_one(BoundaryPlot).title = t("tr.plot.boundary")
        self.query_one("#step-plot", LossPlot).title = t("own.plot.steps")
        self._curve_title(task(self.form_task))
        self.query_one("#loss-plot", LossPlot).redraw()
        self.query_one("#acc-plot", LossPlot).redraw()
        self.query_one(BoundaryPlot).draw()
        self.set_interval(1 / REDRAW_HZ, self._redraw)
        self.query_one("#f-samples", Input).focus()

    # --- the form ---------------------------------------------------------------------------
    @property
    def _settings(self) -> tuple[Setting, ...]:
        """Every task's settings, in the form's order: a row each (those of other tasks hidden)."""
        return form_settings()

    def set_config(self, cfg) -> None:
        """Fill the form from a RunConfig."""
        self.form_task = cfg.task  # the task changing here is not the user choosing another task
        self.query_one("#f-task", Select).value = cfg.task
        self._show_task(cfg.task)
        for s in self._settings:
            value = getattr(cfg, s.name)
            if s.kind == "bool":
                self.query_one(f"#f-{s.name}", Checkbox).value = value
            elif s.kind == "choice":
                self.query_one(f"#f-{s.name}", Select).value = value
            else:
                self.query_one(f"#f-{s.name}", Input).value = str(value)

    def read_form(self):
        """The form as a RunConfig, or raise ConfigError naming the bad field."""
        from engine.training import make_config

        raw: dict[str, Any] = {"task": self.query_one("#f-task", Select).value}
        if task(str(raw["task"])).given:
            self.query_one(OwnPickers).check()
        for s in self._settings:
            if s.kind == "bool":
                raw[s.name] = self.query_one(f"#f-{s.name}", Checkbox).value
            elif s.kind == "choice":
                raw[s.name] = self.query_one(f"#f-{s.name}", Select).value
            else:  # (a text left empty takes its default: the device "auto")
                raw[s.name] = self.query_one(f"#f-{s.name}", Input).value or (s.default if s.kind == "text" else "")
        return make_config(**raw)

    def _show_task(self, name: str) -> None:
        """The form's rows, the plots and the idle words of the task `name`."""
        kind = task(name)
        self._mark_task(kind)
        self._curve_title(kind)
        shown = {s.name for s in kind.schema()}
        for s in self._settings:
            widget = self.query_one(f"#f-{s.name}") if s.kind == "bool" else self.query_one(f"#row-{s.name}")
            widget.set_class(s.name not in shown, "-not-this-task")
        self.query_one(OwnPickers).set_class(not kind.given, "-not-this-task")
        if kind.given:
            self._ask_names()
        if not self.running and self.result is None and self.latest is None:
            self.query_one("#tr-status", Static).update(Wrapped(t(kind.idle)))

    def _mark_task(self, kind) -> None:
        """The plots a task shows: its plot under the loss curve, and its second curve if it has one."""
        for plot in {k.plot for k in TASKS.values()}:
            self.set_class(plot == kind.plot, f"-plot-{plot}")
        self.set_class(kind.curve is not None and (not kind.curve_measured or bool(self.curve_history)),
                       "-second-curve")

    def _curve_title(self, kind) -> None:
        if kind.curve is not None:
            self.query_one("#acc-plot", LossPlot).title = t(kind.curve)

    @on(Select.Changed, "#f-task")
    def _task_chosen(self, event: Select.Changed) -> None:
        """Another task: the form takes that task's starting settings (the device and the
        number of processes stay)."""
        task = str(event.value)
        if task == self.form_task:  # the form was filled with this task (at mount, or set_config)
            return
        if event.value != event.select.value:  # a change overtaken by a later one (set_config's)
            return
        from dataclasses import replace

        from engine.training import defaults

        device = self.query_one("#f-device", Input).value or "auto"
        processes = self.query_one("#f-processes", Input).value
        self.set_config(replace(defaults(task), device=device))
        self.query_one("#f-processes", Input).value = processes

    @on(Input.Changed)
    def _validate(self, event: Input.Changed | None = None) -> bool:
        from engine.training import ConfigError

        for s in self._settings:
            if s.kind in TYPED:
                self.query_one(f"#f-{s.name}", Input).remove_class("-bad")
        error = self.query_one("#tr-form-error", Static)
        try:
            self.read_form()
        except ConfigError as exc:
            bad = self.query(f"#f-{exc.field}")
            if bad:
                bad.first().add_class("-bad")
            error.update(Wrapped(said_text(exc), style="bold red"))
            return False
        error.update("")
        return True

    # --- running ----------------------------------------------------------------------------
    def start_defaults(self, task: str, device: str, processes: int = 1) -> None:
        """Fill the form with a task's starting settings (on `device`, with `processes` ranks) and
        start a run: how Learn's `o` shows a chapter's training."""
        from dataclasses import replace

        from engine.training import defaults

        self.set_config(replace(defaults(task), device=device, processes=processes))
        self.action_start()

    def action_start(self) -> None:
        from engine.training import ConfigError

        try:
            cfg = self.read_form()
        except ConfigError as exc:
            self._validate()
            self.notify(said_text(exc), severity="error")
            return
        self.runs_started += 1
        names = self.query_one(OwnPickers).names() if task(cfg.task).given else {}
        self._begin(cfg, self.runs_started, names)
        from dataclasses import asdict

        kernel, config, run_id = self.app.kernel, asdict(cfg), self.run_id
        ask(self, self.Started, lambda: kernel.request(TrainStart(config, run_id, names)),
            run=run_id)

    def follow_run(self, shown: TrainShown) -> None:
        """%train started a run in the kernel: show it as if started here (the form shows its
        settings and the learner's objects as typed)."""
        from engine.training import ConfigError, make_config

        try:
            cfg = make_config(**shown.config)
        except ConfigError:  # (a kernel of another version)
            return
        self.set_config(cfg)
        self.query_one(OwnPickers).fill({}, shown.names)
        self._begin(cfg, shown.run, dict(shown.names))

    def _begin(self, cfg, run_id: int, names: dict[str, str]) -> None:
        """A run starts: this screen follows run `run_id` from now on, its curves empty."""
        if self.loss_history and self.config is not None:
            self.last_history[self.config.task] = list(self.loss_history)
        # against this task's previous run: a regression's loss of 114 means nothing on the moons
        self.previous_history = self.last_history.get(cfg.task, [])
        self.loss_history, self.latest, self.result, self.config = [], None, None, cfg
        self.curve_history, self.boundary, self.rank_rates = [], "", {}
        self.step_losses, self.step_x, self.own_names = [], [], names
        self._plotted_loss, self._plotted_fit = (), ()
        self.run_id = run_id
        self._show_task(cfg.task)
        self.set_class(False, "-done")
        self.query_one(FitPlot).points = None
        self.query_one(BoundaryPlot).points = None
        self.query_one(HealthPanel).take(None)
        self.query_one("#tr-progress", ProgressBar).update(total=cfg.epochs, progress=0)
        self.query_one("#tr-status", Static).update(Wrapped(t("tr.preparing")))
        if self.app.size.height < FOLD_BELOW_ROWS or self.app.size.width < FOLD_BELOW_COLUMNS:
            self._fold(True)  # the plots take the room while the run goes
        self.dirty = True
        self.running, self.paused = True, False
        self.refresh_bindings()  # the footer: this run's keys (pause, stop, the form)

    def on_training_screen_started(self, answer: Started) -> None:
        if answer.error:  # refused (a bad field), or no kernel: the run ends before it began
            self._finished(answer.context["run"], error=answer.error)

    def handle_kernel_news(self, news: TrainData | TrainProgress | TrainRate | TrainHealth | TrainFinished) -> None:
        """Events of the kernel's training thread: plot data, progress, the end of the run."""
        if news.run != self.run_id:
            return  # from a run this screen has since replaced
        if isinstance(news, TrainData):
            self._plot(task(news.task).plot).take_points(news.points)
        elif isinstance(news, TrainProgress):
            p = news.progress
            kind = task(self.config.task) if self.config is not None else None
            self.latest = p  # (whether the run is paused comes from the kernel's answer to F6, not from here)
            if p.epoch_done and len(self.loss_history) < p.epoch:
                self.loss_history.append(p.loss)
                point = kind.curve_point(p.metrics) if kind is not None else None
                if point is not None:
                    self.curve_history.append(point)
                    self.set_class(True, "-second-curve")
            if kind is not None and kind.plot == "boundary" and p.metrics.boundary:
                self.boundary = p.metrics.boundary
            if kind is not None and kind.plot == "steps":
                self._take_steps(p.metrics)
        elif isinstance(news, TrainRate):
            self.rank_rates[int(news.rank)] = float(news.rate)
        elif isinstance(news, TrainHealth):
            self.query_one(HealthPanel).take(news.health)  # (the panel redraws itself)
            return
        elif isinstance(news, TrainFinished):
            self._finished(self.run_id, news.result, said_text(news.error) if news.error else "",
                           news.distributed, news.replay)
        self.dirty = True

    def kernel_gone(self, why: str) -> None:
        """The kernel died or was restarted: a run in it is over, and no event will say so."""
        if self.running:
            self._finished(self.run_id, error=t("tr.kernel_gone", why=why))

    def _finished(self, run_id: int, result=None, error: str = "", distributed=None, replay=None) -> None:
        if run_id != self.run_id:
            return
        self.running = False
        self.refresh_bindings()  # the footer: export, once there is a result
        status = self.query_one("#tr-status", Static)
        if error:
            status.update(Wrapped(error, style="bold red"))
            self.notify(error, severity="error", timeout=8)
            return
        self.result = r = result
        self.set_class(True, "-done")  # (on a short terminal the finished progress bar gives its row)
        self.loss_history = list(r.loss_history)
        self.query_one("#tr-progress", ProgressBar).update(progress=r.epochs)
        self.dirty = True
        self._redraw()

        summary = Text()
        rate = distributed.samples_per_s if distributed is not None else r.samples_per_s
        summary.append(t(counted("tr.done" if not r.stopped else "tr.stopped", r.epochs), epochs=r.epochs, seconds=f"{r.seconds:.2f}",
                         rate=f"{rate:,.0f}") + "\n", style="bold green")
        assert self.config is not None  # (the run that finished was started from it)
        if distributed is not None:
            d = distributed
            rates = " + ".join(f"{x.samples_per_s:,.0f}" for x in d.ranks)
            summary.append(t("tr.ddp_done", n=d.world_size, backend=d.backend, batch=self.config.batch_size,
                             global_batch=d.global_batch, shard=d.shard, rates=rates,
                             total=f"{d.samples_per_s:,.0f}") + "\n")
            summary.append(t("tr.ddp_equal", difference=f"{d.weights_max_difference:g}"), style="cyan")
            key = "tr.ddp_replay" if replay is not None else "tr.ddp_fact"
            summary.append(t(key, n=d.world_size, batch=self.config.batch_size, global_batch=d.global_batch,
                             difference=f"{replay:.1e}" if replay is not None else "") + "\n", style="cyan")
        kind = task(r.task)
        if kind.curve is not None:
            self.curve_history = list(kind.curve_history(r.metrics))
            self._mark_task(kind)
        *lines, floor = kind.result_lines(r, self.config)
        for line in lines:
            summary.append(said_text(line) + "\n")
        summary.append(said_text(floor), style="dim")
        status.update(Wrapped(summary))

    STEP_POINTS_KEPT = 4000  # per-step losses kept for the plot; past this, neighbours are averaged

    def _take_steps(self, metrics) -> None:
        """A progress event's per-step losses (runs of `steps_per_point` steps averaged)."""
        per = metrics.steps_per_point
        for i, loss in enumerate(metrics.step_losses):
            self.step_x.append(metrics.first_step + i * per + (per - 1) / 2)
            self.step_losses.append(loss)
        if len(self.step_losses) > self.STEP_POINTS_KEPT:  # halve: the plot draws ~2 points a column anyway
            self.step_x = [sum(self.step_x[i:i + 2]) / len(self.step_x[i:i + 2]) for i in range(0, len(self.step_x), 2)]
            self.step_losses = [sum(self.step_losses[i:i + 2]) / len(self.step_losses[i:i + 2])
                                for i in range(0, len(self.step_losses), 2)]

    def _ask_names(self) -> None:
        kernel = self.app.kernel
        ask(self, self.NamesFound, lambda: kernel.request(OwnNames()))

    def on_training_screen_names_found(self, answer: NamesFound) -> None:
        if answer.error or stale(self, answer):
            return  # (no kernel yet: the pickers say there is nothing to pick, and ask again when shown)
        self.query_one(OwnPickers).fill(answer.result)
        self._validate()

    def on_screen_resume(self) -> None:
        """Back on this screen: the Playground may have made new objects to pick."""
        if self.ready and task(self.form_task).given and not self.running:
            self._ask_names()

    @on(Select.Changed, ".own-picker")
    def _picked(self, _event: Select.Changed) -> None:
        self._validate()

    def on_resize(self, event) -> None:  # (BaseScreen's on_resize runs as well: Textual calls both)
        self.set_class(event.size.height < FOLD_BELOW_ROWS, "-short")

    def on_key(self, _event) -> None:
        self._key_at = time.monotonic()

    def _redraw(self) -> None:
        if not self.dirty:
            return
        now = time.monotonic()
        if self.running and now - self._key_at < TYPING_PAUSE_S and now - self._status_at < TYPING_STATUS_S:
            return  # keys first: while typing, the status line too is redrawn only now and then
        self._status_at = now
        self.dirty = False
        p = self.latest
        if p is not None and self.running:  # once a run ends, its result or error stays on show
            paused = self.running and self.paused
            key, own = task(self.config.task if self.config else self.form_task).status(p.metrics)
            text = t(key, epoch=p.epoch, epochs=p.epochs, step=p.step, loss=f"{p.loss:.4f}",
                     rate=f"{p.samples_per_s:,.0f}", elapsed=f"{p.elapsed:.1f}",
                     device=self.config.device if self.config else "", **own)
            if self.config is not None and self.config.processes > 1:
                rates = " + ".join(f"{self.rank_rates[k]:,.0f}" for k in sorted(self.rank_rates)) or "…"
                text += "\n" + t("tr.ddp_status", n=self.config.processes, global_batch=self.config.processes *
                                  self.config.batch_size, rates=rates)
            if paused:
                text += " · " + t("tr.paused")
            elif p.elapsed > ETA_AFTER_S:
                done = (p.epoch if p.epoch_done else p.epoch - 0.5) / max(1, p.epochs)
                if 0 < done < 1:
                    text += " · " + t("tr.eta", seconds=f"{p.elapsed * (1 - done) / done:.0f}")
            self.query_one("#tr-status", Static).update(Wrapped(text))
            self.query_one("#tr-progress", ProgressBar).update(progress=p.epoch - (0 if p.epoch_done else 1))
        now = time.monotonic()
        typing = now - self._key_at < TYPING_PAUSE_S  # a plot build takes the UI ~25 ms: keys first
        if self.result is None and (now - self._plotted_at < 1 / PLOT_HZ or typing):
            self.dirty = True  # come back for the plots on a later tick
            return
        self._plotted_at = now
        epochs = self._epochs_shown()
        shown = (len(self.loss_history), len(self.previous_history), len(self.curve_history), epochs)
        if shown != self._plotted_loss:
            self._plotted_loss = shown
            self.query_one("#loss-plot", LossPlot).set_data(self.loss_history, self.previous_history, x_range=epochs)
            self.query_one("#acc-plot", LossPlot).set_data(self.curve_history, [], x_range=epochs)
        if self.config is not None and task(self.config.task).plot == "steps":
            if self._plotted_fit != (len(self.step_losses),):
                self._plotted_fit = (len(self.step_losses),)
                self.query_one("#step-plot", LossPlot).set_data(self.step_losses, [], current_x=self.step_x)
            return
        if self.config is not None and task(self.config.task).plot == "boundary":
            boundary = self.query_one(BoundaryPlot)
            if (self.boundary, boundary.points is not None) != self._plotted_fit:
                self._plotted_fit = (self.boundary, boundary.points is not None)
                boundary.draw(self.boundary)
            return
        fit = self.query_one(FitPlot)
        run = self.result or p
        source = run.metrics if run is not None else None  # (the line: learned, or so far)
        params = (tuple(source.weight), source.bias, fit.points is not None) if source is not None else None
        if params == self._plotted_fit:
            return
        self._plotted_fit = params
        if source is not None:
            predicted = None
            if fit.features > 1 and fit.points is not None:
                predicted = [sum(a * b for a, b in zip(row, source.weight, strict=False)) + source.bias
                             for row in fit.points[0]]
            fit.draw(list(source.weight), source.bias, predicted)
        else:
            fit.draw([0.0], 0.0)

    def _plot(self, kind: str) -> FitPlot | BoundaryPlot:
        """The plot under the loss curve that a task names (Task.plot)."""
        return self.query_one(FitPlot) if kind == "fit" else self.query_one(BoundaryPlot)

    def _epochs_shown(self) -> tuple[float, float] | None:
        """The x axis of the curves: this run's epochs (those it ran, once a stopped run ends)."""
        if self.result is not None:
            return (1, max(1, self.result.epochs))
        if self.config is not None:
            return (1, self.config.epochs)
        return None

    def action_pause(self) -> None:
        """F6: pause a running run, resume a paused one; the status line says which at once."""
        if not self.running:
            return
        self.paused = not self.paused
        self._control(TrainPause() if self.paused else TrainResume(), paused=self.paused)
        self.notify(t("tr.paused") if self.paused else t("tr.resumed"), timeout=2)
        self.dirty = True

    def action_stop(self) -> None:
        if self.running:
            self._control(TrainStop())

    def _control(self, request: Request[Any], **context) -> None:
        kernel, run = self.app.kernel, self.run_id
        ask(self, self.Controlled, lambda: kernel.request(request), exclusive=False, run=run,  # each one must arrive
            **context)

    def on_training_screen_controlled(self, answer: Controlled) -> None:
        if answer.error:
            self.notify(answer.error, severity="error")
        wanted = answer.context.get("paused")
        if wanted is None or stale(self, answer) or answer.context["run"] != self.run_id or not self.running:
            return  # a stop, or overtaken by a later F6 or run
        # the kernel's word on the run's state, not a progress event's (the last one was sent
        # before the pause and arrives after it); None: the run had just ended; a refused request
        # leaves the run as it was
        said = answer.result if not answer.error else not wanted
        if said is not None and said != self.paused:
            self.paused = bool(said)
            self.dirty = True

    def _fold(self, folded: bool) -> None:
        """Fold the settings to one line above the plots (ctrl+b brings the form back)."""
        if folded and self.config is not None and task(self.config.task).given:
            c, n = self.config, self.own_names
            self.query_one("#tr-summary", Static).update(Wrapped(t(
                "own.summary", model=n.get("model", ""), data=n.get("data", ""), loss=n.get("loss", ""),
                optimizer=n.get("optimizer", ""), batch=c.batch_size, epochs=c.epochs, device=c.device)))
        elif folded and self.config is not None:
            c = self.config
            self.query_one("#tr-summary", Static).update(Wrapped(t(
                "tr.summary", samples=c.samples, features=c.features, noise=c.noise, batch=c.batch_size,
                epochs=c.epochs, lr=c.lr, optimizer=c.optimizer, device=c.device)))
        if folded and self.focused is not None and self.query_one("#tr-form") in self.focused.ancestors:
            self.set_focus(None)
        self.set_class(folded, "-form-folded")
        self.refresh_bindings()
        if not folded:
            self.query_one("#f-samples", Input).focus()

    def on_descendant_focus(self, event) -> None:
        """The focused field's row is marked (its label in reverse video): Textual's :focus-within
        does not restyle the label beside the field."""
        for row in self.query(".field.-focused"):
            row.remove_class("-focused")
        parent = getattr(event.widget, "parent", None)
        if parent is not None and parent.has_class("field"):
            parent.add_class("-focused")

    def on_descendant_blur(self, event) -> None:
        if self.focused is None:
            for row in self.query(".field.-focused"):
                row.remove_class("-focused")

    def check_action(self, action: str, parameters) -> bool | None:
        """The footer shows the keys this moment needs (at 80 columns they do not all fit): pause
        and stop while a run goes, export once one finished, the form's key once there is a run
        or the form is folded, the log scale once there is a curve."""
        if action in ("pause", "stop"):
            return self.running
        if action == "export":
            return self.result is not None
        if action == "toggle_form":
            return self.running or self.result is not None or self.has_class("-form-folded")
        if action in ("toggle_log", "toggle_smooth"):
            return self.running or self.result is not None
        return True

    def action_toggle_form(self) -> None:
        self._fold(not self.has_class("-form-folded"))

    def action_toggle_health(self) -> None:
        shown = not self.has_class("-health")
        self.set_class(shown, "-health")
        if shown and (self.app.size.height < FOLD_BELOW_ROWS or self.app.size.width < FOLD_BELOW_COLUMNS):
            self._fold(True)  # beside the form, the loss curve would have no room left
        self.query_one(HealthPanel).refresh()

    def action_toggle_log(self) -> None:
        plot = self.query_one("#loss-plot", LossPlot)
        plot.log_scale = not plot.log_scale
        plot.redraw()

    def action_toggle_smooth(self) -> None:
        plot = self.query_one("#loss-plot", LossPlot)
        plot.smoothing = not plot.smoothing
        plot.redraw()

    @on(Button.Pressed, "#b-start")
    def _start_button(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#b-pause")
    def _pause_button(self) -> None:
        self.action_pause()

    @on(Button.Pressed, "#b-stop")
    def _stop_button(self) -> None:
        self.action_stop()

    # --- exports ----------------------------------------------------------------------------
    def action_export(self) -> None:
        if self.result is None or self.config is None:
            self.notify(t("tr.export_first"), severity="warning")
            return
        from engine.exports import default_name
        from tui.screens.export import ExportScreen

        self.app.push_screen(ExportScreen(self.config.task, default_name(self.config)))
