"""The App: its modes (one per screen), global keys, the kernel session and the palette."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from engine.i18n import Said, catalog, said
from engine.protocol import (
    AutogradShown,
    DeviceStatus,
    ModelShown,
    TrainData,
    TrainFinished,
    TrainHealth,
    TrainProgress,
    TrainRate,
    TrainShown,
)
from engine.textwrap_cjk import fill
from tui import i18n
from tui.asking import Answer, ask
from tui.history import History
from tui.i18n import said_text, t
from tui.kernel import Kernel, make_kernel
from tui.kernel import events as ev
from tui.kernel.attach import short_name
from tui.keymap import unknown_ids
from tui.messages import KernelMessage
from tui.screens import SCREENS, factory, screen_class
from tui.screens.base import BaseScreen
from tui.upstream import forward_key


class DeviceMemory(Answer):
    """The GPU's memory in use, as the status line shows it."""


TRAINING_EVENTS = (TrainData, TrainProgress, TrainRate, TrainHealth, TrainFinished)  # the Training screen's
KEY_FLIGHT_MAX_S = 0.5  # a key not seen handled by then is taken as lost (its widget went away)
EXIT_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT")  # each ends the app in order; its exit code is 128 + the signal
# Textual's toast: 60 cells, at most half of its rack (the screen less the rack's scrollbar, 2), less
# its padding and edge (3)
TOAST_WIDTH, TOAST_RACK_BAR, TOAST_FRAME = 60, 2, 3


class TorchTUI(App):
    """torchtui: Playground, Autograd, Training and Learn as modes, switched by F2–F5; Model by F10."""

    TITLE = "torchtui"
    MODES = {mode: factory(mode) for mode in SCREENS}
    BINDINGS = [
        Binding("f1", "help", "key.help", id="app.help", tooltip="tip.help"),
        *(Binding(key, f"switch_mode('{mode}')", f"screen.{mode}", id=f"app.{mode}", tooltip=f"tip.{mode}")
          for mode, (_module, _class, key) in SCREENS.items()),
        Binding("ctrl+q", "quit", "key.quit", id="app.quit", tooltip="tip.quit", priority=True),
    ]

    status_text: reactive[str] = reactive("")

    def __init__(self, screen: str = "playground", device: str = "auto", lang: str = "en",
                 warnings: tuple[Said, ...] = (), theme: str | None = None, train_config=None,
                 existing=None, keys: Mapping[str, str] | None = None, kernel: Kernel | None = None) -> None:
        i18n.set_language(lang)
        # The start screen is the app's default mode, so the first frame draws it directly
        # (switching modes in on_mount first builds and draws an empty default screen).
        if screen not in SCREENS:
            raise ValueError(f"unknown screen {screen!r}: one of {', '.join(SCREENS)}")
        self.DEFAULT_MODE = screen  # type: ignore[misc]  # (per app: App.__init__ reads it to pick the first mode)
        super().__init__()
        self.device_spec = device
        self.user_keys = dict(keys or {})  # config.toml's [keys]: binding id -> keys
        self.set_keymap(self.user_keys)
        self._clashes_told: set[tuple[str, str]] = set()
        self.existing = existing  # a running kernel's connection file (--existing), else None
        self.device = "cpu"
        self.torch_version = ""
        self.startup_warnings = warnings
        self._kernel = kernel  # given (a test's fake kernel), else made when first asked for
        if kernel is not None:
            kernel.listen(self._on_kernel_event)
        self._history = None
        self._train_backlog: list | None = None  # training news while %train's screen is being shown
        self._kernel_events: list = []
        self.train_config = train_config
        self._reading_memory = False
        self._memory_timer: Timer | None = None
        self._held_keys: list[events.Key | events.Paste] = []
        self._signals_caught: list[int] = []  # the exit signals this app handles while it runs
        self._key_in_flight: events.Event | None = None  # a key handed on and not yet handled
        self._key_sent_at = 0.0
        self.first_frame_out = False  # True once the first frame is on the terminal (on_ready)
        self.status_text = t("status.loading") if existing is None else t("status.attaching")
        if theme:
            try:
                self.theme = theme
            except Exception:  # an unknown theme name from the config: keep the default
                self.startup_warnings = (*warnings, said("warn.config.theme", theme=repr(theme)))

    # --- start-up -------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        # One key at a time. A key goes to the focused widget's queue and its bindings act when it
        # bubbles back up to the app; keys arriving meanwhile (a burst over SSH) would go to the
        # widget focused *before* it acted (Tab Tab Tab 3 0 0 0 typed into the first field). So a
        # key waits here until the one before it has been handled all the way up.
        # Keys and pastes that arrive while a screen is still building its body wait too (they
        # would go to the bare screen and be lost); BaseScreen releases them once it is ready.
        # Priority keys (ctrl+q) act at once.
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if self._key_in_flight is not None and time.monotonic() - self._key_sent_at > KEY_FLIGHT_MAX_S:
                self._key_in_flight = None  # lost with a widget that went away: do not wait for it
            if self._holding_keys() or self._key_in_flight is not None or self._held_keys:
                if isinstance(event, events.Paste) or not self._acts_at_once(event.key):
                    self._held_keys.append(event)
                    if self._key_in_flight is not None:  # should it never be seen handled: not stuck
                        self.set_timer(KEY_FLIGHT_MAX_S + 0.05, self._unstick)
                    return
            target = self.focused or self.screen
            await super().on_event(event)
            if event.is_forwarded:  # not taken by a priority binding: follow it until handled
                self._track_key(event, target)
            return
        await super().on_event(event)

    def _acts_at_once(self, key: str) -> bool:
        """Whether `key` is an enabled priority binding (ctrl+q, ctrl+c while a cell runs): Textual
        runs those before any widget sees the key, so they need not wait their turn."""
        active = self.screen.active_bindings.get(key)
        return active is not None and active.binding.priority and active.enabled

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Notifications as plain text, whoever sends them (a screen's notify comes here too): they
        carry paths, errors and config text whose brackets ([keys], [1, 2]) are not markup.
        Broken into lines here, the Chinese way: Textual's toast would break them at spaces only.
        A toast is a few lines: a longer message (an error that quotes megabytes) is cut, with `…`,
        before it is broken, so that breaking it never holds up the event loop."""
        most = 1000  # characters: some 18 lines of the widest toast, more than any message needs
        if len(message) > most:
            message = message[:most - 1] + "…"
        message = fill(message, min(TOAST_WIDTH, (self.size.width - TOAST_RACK_BAR) // 2) - TOAST_FRAME)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def _unstick(self) -> None:
        if self._key_in_flight is not None and time.monotonic() - self._key_sent_at > KEY_FLIGHT_MAX_S:
            self._key_in_flight = None
            if not self._holding_keys():
                self.release_keys()

    def _track_key(self, event: events.Event, target) -> None:
        self._key_in_flight, self._key_sent_at = event, time.monotonic()
        if not target.call_later(self._follow_key, event, target):  # its queue is closed
            self._key_in_flight = None

    def _follow_key(self, event: events.Event, widget) -> None:
        """Called in `widget`'s queue after it handled `event`: done once it reached the app (whose
        bindings have then acted), else follow it to the parent it bubbled to. A key a widget
        stopped is followed up all the same: each parent's queue is then just passed through."""
        parent = widget.parent if widget is not self else None
        if parent is None or not parent.call_later(self._follow_key, event, parent):
            if self._key_in_flight is event:
                self._key_in_flight = None
            if not self._holding_keys():
                self.release_keys()

    def _holding_keys(self) -> bool:
        try:
            screen = self.screen
        except Exception:  # no screen yet
            return False
        return isinstance(screen, BaseScreen) and not screen.keys_ready

    def release_keys(self) -> None:
        """Hand the keys that waited (typed while the screen was being built, or behind a key still
        being handled) to whatever has focus now, one at a time, in order."""
        while self._held_keys and self._key_in_flight is None:
            event = self._held_keys.pop(0)
            target = self.focused or self.screen
            forward_key(target, event)
            self._track_key(event, target)

    def on_mount(self) -> None:
        self._catch_exit_signals()
        for warning in self.startup_warnings:
            self.notify(said_text(warning), severity="warning", timeout=8)

    async def on_ready(self) -> None:
        """The first frame is on the terminal: now build the rest of the screen, then start the
        kernel (importing jupyter_client earlier would delay that frame)."""
        self.first_frame_out = True  # screens shown from now on build their body when mounted
        if isinstance(self.screen, BaseScreen):
            await self.screen.build_body()
        if self.user_keys:
            for warning in unknown_ids(self.user_keys, type(self)):
                self.notify(said_text(warning), severity="warning", timeout=10)
        self.set_timer(0.01, self._start_kernel)

    def _start_kernel(self) -> None:
        self.run_worker(self.kernel.start(), name="kernel-start", group="kernel", exit_on_error=False)
        self.run_worker(self._prepare_highlighting, name="highlighter", thread=True, exit_on_error=False)

    @staticmethod
    def _prepare_highlighting() -> None:
        """Import pygments and build its Python lexer here, off the UI thread: the first cell's
        highlighted input would otherwise pay for it while the user waits for the result."""
        from rich.console import Console
        from rich.syntax import Syntax

        with open(os.devnull, "w") as sink:
            Console(file=sink, width=40).print(Syntax("x = torch.ones(2)", "python"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (the kernel's start, the highlighter): one that fails says so.
        Screens ask through tui.asking, whose failures come back to them as answers."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(t("app.worker_failed", job=event.worker.name, error=f"{type(error).__name__}: {error}"),
                        severity="error", timeout=15)

    # --- the kernel -------------------------------------------------------------------------
    @property
    def kernel(self) -> Kernel:
        """The kernel: one namespace shared by the Playground, Learn, Autograd and Training. Its
        process starts once the first frame is drawn."""
        if self._kernel is None:
            self._kernel = make_kernel(self.device_spec, self.existing, self._on_kernel_event)
        return self._kernel

    def _on_kernel_event(self, event) -> None:
        self.post_message(KernelMessage(event))

    def on_kernel_message(self, message: KernelMessage) -> None:
        event = message.event
        if not self.is_running:  # the app is closing: its screens are being taken down
            return
        if isinstance(event, ev.KernelReady):
            self._kernel_ready(event)
        elif isinstance(event, (ev.KernelDied, ev.KernelRestarting)):
            train = self._mode_screen("train")
            if train is not None:  # a run in the kernel ended with it
                train.kernel_gone(getattr(event, "cause", "") or t("tr.kernel_restarted"))
        elif isinstance(event, AutogradShown):  # %autograd in a cell: the recording goes to the inspector
            inspection = event.inspection
            self.navigate("autograd", lambda screen: screen.show_inspection(inspection))
            return
        elif isinstance(event, ModelShown):  # %model in a cell: the Model view shows the summary
            summary = event.summary
            self.navigate("model", lambda screen: screen.show_summary(summary))
            return
        elif isinstance(event, TrainShown):  # %train in a cell: Training follows the run it started
            self._follow_run(event)
            return
        elif isinstance(event, TRAINING_EVENTS):
            if self._train_backlog is not None:  # the Training screen is being shown: its news waits
                self._train_backlog.append(event)
                return
            screen = self._mode_screen("train")
            if screen is not None:
                screen.handle_kernel_news(event)
            return
        self._to_playground(event)

    def _follow_run(self, shown: TrainShown) -> None:
        """Show Training on %train's run; the run's events that come before the screen is up are
        kept and handed to it then (a short run may be over by then)."""
        screen = self._mode_screen("train")
        if screen is not None and screen.ready:
            screen.follow_run(shown)
            self.navigate("train")
            return
        self._train_backlog = []

        def follow(screen) -> None:
            backlog, self._train_backlog = self._train_backlog or [], None
            screen.follow_run(shown)
            for news in backlog:
                screen.handle_kernel_news(news)

        self.navigate("train", follow)

    def _kernel_ready(self, event) -> None:
        if event.plain:
            self.status_text = self._where(t("status.plain"))
            self.notify(event.plain, severity="warning", timeout=15)
        elif event.error:
            self.status_text = t("status.torch_failed")
            self.notify(t("status.torch_failed_detail", error=event.error), severity="error", timeout=15)
        else:
            self.device = event.device
            self.torch_version = event.torch_version
            self._show_device(event.device_text)
            if event.device.startswith("cuda") and self._memory_timer is None:
                self._memory_timer = self.set_interval(1.0, self._poll_device_memory)

    def _show_device(self, device_text: str) -> None:
        self.status_text = self._where(f"torch {self.torch_version} · {device_text}")

    def _where(self, text: str) -> str:
        """The status line's text, led by the kernel attached to, if it is someone else's."""
        if self.existing is None:
            return text

        return f"{t('status.attached', name=short_name(self.existing))} · {text}"

    def _poll_device_memory(self) -> None:
        # Asked of the kernel on its subshell: a busy GPU delays the answer, never the UI.
        if self._reading_memory or not self.kernel.ready:
            return
        self._reading_memory = True
        kernel = self.kernel
        ask(self, DeviceMemory, lambda: kernel.request(DeviceStatus(self.device)))

    @on(DeviceMemory)
    def _device_memory(self, answer: DeviceMemory) -> None:
        self._reading_memory = False
        if not answer.error:  # (busy past 5 s: the next tick asks again)
            self._show_device(answer.result)

    def _to_playground(self, event) -> None:
        """Kernel events go to the Playground; until its body is on screen they wait here."""
        screen = self._mode_screen("playground")
        if screen is not None and screen.ready:
            screen.handle_kernel_event(event)
        else:
            self._kernel_events.append(event)

    def take_kernel_events(self) -> list:
        events, self._kernel_events = self._kernel_events, []
        return events

    def _mode_screen(self, mode: str):
        """The screen of a mode if it was built, else None."""
        try:
            stack = self.get_screen_stack(mode)
        except KeyError:  # a mode never shown has no stack yet
            return None
        return stack[0] if stack and isinstance(stack[0], BaseScreen) else None

    def navigate(self, mode: str, then: Callable[[Any], object] | None = None) -> None:
        """Show a mode's screen, then (once its body is mounted) call `then` with the screen. How
        one screen sends the reader to another: Learn's examples, `o`, %autograd, the palette."""
        async def go() -> None:
            await self.switch_mode(mode)
            screen = self.screen
            if then is not None:
                if isinstance(screen, BaseScreen):
                    await screen.when_ready(then)
                else:
                    then(screen)

        self.call_later(go)

    @property
    def history(self):
        if self._history is None:
            self._history = History()
            self.warn_history()
        return self._history

    def warn_history(self) -> None:
        """Say (once) that history cannot be saved: read-only state folder, full disk."""
        warning = self.history.take_warning() if self._history is not None else None
        if warning:
            self.notify(warning, severity="warning", timeout=10)

    # --- keys and palette -----------------------------------------------------------------
    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(TorchTUI.BINDINGS, self.user_keys))

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        """A key the user's keymap gave to one binding was another's on the same screen: said
        once per key and binding (Textual asks again at every key press)."""
        for binding in clashed_bindings:
            told = (binding.key, binding.id or binding.action)
            if told not in self._clashes_told:
                self._clashes_told.add(told)
                self.notify(t("warn.keys.clash", keys=binding.key, action=t(binding.description or binding.action)),
                            severity="warning", timeout=10)


    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own commands (theme, keys, quit, screenshot…), worded in the reader's language:
        # the catalog's textual.* entries hold Textual's English words; others stay as they come.
        own = {english: key for key, english in catalog("en").items() if key.startswith("textual.")}
        for command in super().get_system_commands(screen):
            title, help_text = (t(own[words]) if words in own else words for words in (command.title, command.help))
            yield SystemCommand(title, help_text, command.callback, command.discover)
        for mode in SCREENS:
            title = t(f"screen.{mode}")
            yield SystemCommand(t("palette.open", screen=title), t(f"tip.{mode}"),
                                lambda m=mode: self.switch_mode(m))
            for binding in screen_class(mode).BINDINGS:
                if isinstance(binding, Binding) and binding.id and binding.description and binding.show:
                    yield SystemCommand(f"{title}: {t(binding.description)}",
                                        t(binding.tooltip) if binding.tooltip else "",
                                        lambda m=mode, a=binding.action: self.navigate(m, lambda s: s.run_action(a)),
                                        discover=False)

    async def action_quit(self) -> None:
        self.exit()

    def kill_kernel_now(self) -> None:
        """Last resort once the app has ended: SIGKILL a kernel that is still running."""
        if self._kernel is not None:
            self._kernel.kill_now()

    def _catch_exit_signals(self) -> None:
        """SIGTERM (kill, a service manager), SIGHUP (the terminal closed, an SSH connection
        dropped) and SIGQUIT end the app as ctrl+q does: the driver leaves the alternate screen,
        turns mouse reporting off and shows the cursor, and the kernel is stopped. Left to their
        default action they ended the process at once, the terminal left as the app had set it."""
        loop = asyncio.get_running_loop()
        for name in EXIT_SIGNALS:
            number = getattr(signal, name, None)
            if number is None:  # (Windows has no SIGHUP nor SIGQUIT)
                continue
            try:
                loop.add_signal_handler(number, self._exit_on_signal, number)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such loop API
                continue
            self._signals_caught.append(number)

    def _release_exit_signals(self) -> None:
        loop = asyncio.get_running_loop()
        while self._signals_caught:
            loop.remove_signal_handler(self._signals_caught.pop())

    def _exit_on_signal(self, number: int) -> None:
        # A second signal acts as it would without the app (the way out of a shutdown that hangs).
        self._release_exit_signals()
        self.exit(return_code=128 + number)

    async def on_unmount(self) -> None:
        self._release_exit_signals()
        # The kernel goes with the app, however the app ends (ctrl+q, a test's exit, an error).
        if self._kernel is not None:
            await self._kernel.shutdown()


def make_app(screen: str = "playground", device: str = "auto", lang: str = "en",
             warnings: tuple[Said, ...] = (), theme: str | None = None, train_config=None,
             existing=None, keys: Mapping[str, str] | None = None, kernel: Kernel | None = None) -> TorchTUI:
    """Build the app; the CLI and the tests both start here. `kernel`: the kernel to talk to (a
    test's tui.kernel.fake.FakeKernel, say) instead of the one `device` and `existing` choose."""
    return TorchTUI(screen=screen, device=device, lang=lang, warnings=warnings, theme=theme,
                    train_config=train_config, existing=existing, keys=keys, kernel=kernel)
