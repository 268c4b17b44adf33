"""The App: its modes (one per screen), global keys, the background torch import and the palette."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from tui import i18n
from tui.bindings import translate
from tui.i18n import t
from tui.messages import DeviceStatus, KernelEvent, TerminalOutput, TorchReady
from tui.screens import SCREENS, factory, screen_class


class TorchTUI(App):
    """torchtui: Playground, Autograd, Training and Learn as modes, switched by F2–F5."""

    TITLE = "torchtui"
    MODES = {mode: factory(mode) for mode in SCREENS}
    BINDINGS = [
        Binding("f1", "help", "key.help", id="app.help", tooltip="tip.help"),
        Binding("f2", "switch_mode('playground')", "screen.playground", id="app.playground",
                tooltip="tip.playground"),
        Binding("f3", "switch_mode('autograd')", "screen.autograd", id="app.autograd", tooltip="tip.autograd"),
        Binding("f4", "switch_mode('train')", "screen.train", id="app.train", tooltip="tip.train"),
        Binding("f5", "switch_mode('learn')", "screen.learn", id="app.learn", tooltip="tip.learn"),
        Binding("ctrl+q", "quit", "key.quit", id="app.quit", tooltip="tip.quit", priority=True),
    ]

    status_text: reactive[str] = reactive("")

    def __init__(self, screen: str = "playground", device: str = "auto", lang: str = "en",
                 warnings: tuple[str, ...] = (), theme: str | None = None, train_config=None) -> None:
        i18n.set_language(lang)
        # The start screen is the app's default mode, so the first frame draws it directly
        # (switching modes in on_mount first builds and draws an empty default screen).
        if screen not in SCREENS:
            raise ValueError(f"unknown screen {screen!r}: one of {', '.join(SCREENS)}")
        self.DEFAULT_MODE = screen
        super().__init__()
        translate(self._bindings)
        self.device_spec = device
        self.device = "cpu"
        self.torch_version = ""
        self.torch_ready = threading.Event()
        self.startup_warnings = warnings
        self.fd_capture = None  # set by the CLI: what subprocesses write to fds 1 and 2
        self._kernel = None
        self._history = None
        self._kernel_events: list = []
        self.train_config = train_config
        self.on_quit_hooks: list = []
        self._reading_memory = False
        self.status_text = t("status.loading")
        if theme:
            try:
                self.theme = theme
            except Exception:  # an unknown theme name from the config: keep the default
                self.startup_warnings = (*warnings, f"unknown theme {theme!r} in config; using the default")

    # --- start-up -------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.fd_capture is not None:
            self.fd_capture.connect(lambda text: self.post_message(TerminalOutput(text)))
        for warning in self.startup_warnings:
            self.notify(warning, severity="warning", timeout=8)

    async def on_ready(self) -> None:
        """The first frame is on the terminal: now build the rest of the screen, then load torch.
        The torch import holds the GIL for long stretches; started earlier, it delays that frame."""
        from tui.screens.base import BaseScreen

        if isinstance(self.screen, BaseScreen):
            await self.screen.build_body()
        self.set_timer(0.05, self._start_loader)

    def _start_loader(self) -> None:
        threading.Thread(target=self._load_torch, name="torch-loader", daemon=True).start()
        self.kernel.start()

    def _load_torch(self) -> None:
        try:
            from engine import warmup

            warmup.load()
            import torch

            from engine import devices

            device = devices.resolve(self.device_spec)
            self.post_message(TorchReady(torch.__version__, device, devices.status_text(device)))
            self._prepare_highlighting()
        except Exception as exc:  # a broken install must still leave a usable, explaining app
            self.post_message(TorchReady("", "cpu", "", error=f"{type(exc).__name__}: {exc}"))

    @staticmethod
    def _prepare_highlighting() -> None:
        """Import pygments and build its Python lexer here, off the UI thread: the first cell's
        highlighted input would otherwise pay for it while the user waits for the result."""
        from rich.console import Console
        from rich.syntax import Syntax

        with open(os.devnull, "w") as sink:
            Console(file=sink, width=40).print(Syntax("x = torch.ones(2)", "python"))

    def on_torch_ready(self, message: TorchReady) -> None:
        if message.error:
            self.status_text = t("status.torch_failed")
            self.notify(t("status.torch_failed_detail", error=message.error), severity="error", timeout=15)
        else:
            self.device = message.device
            self.torch_version = message.version
            self._show_device(message.device_text)
            if message.device.startswith("cuda"):
                self.set_interval(1.0, self._poll_device_memory)
        self.torch_ready.set()

    def _show_device(self, device_text: str) -> None:
        self.status_text = f"torch {self.torch_version} · {device_text}"

    def _poll_device_memory(self) -> None:
        # Reading CUDA memory can stall on a busy GPU: do it off the UI thread, at most once a
        # second, and never start a read while the last one is still waiting.
        if self._reading_memory:
            return
        self._reading_memory = True

        def read() -> None:
            from engine import devices

            try:
                self.post_message(DeviceStatus(devices.status_text(self.device)))
            except Exception:
                pass
            finally:
                self._reading_memory = False

        threading.Thread(target=read, daemon=True).start()

    def on_device_status(self, message: DeviceStatus) -> None:
        self._show_device(message.text)

    # --- shared state ---------------------------------------------------------------------
    @property
    def kernel(self):
        """The Playground's kernel: one namespace shared by the Playground, Learn and %autograd.
        Its thread starts once the first frame is drawn (it begins by importing torch)."""
        if self._kernel is None:
            from engine.repl import Kernel

            self._kernel = Kernel(on_event=lambda event: self.post_message(KernelEvent(event)),
                                  history=self.history, autostart=False)
        return self._kernel

    def on_kernel_event(self, message: KernelEvent) -> None:
        self._to_playground(message.event)

    def on_terminal_output(self, message: TerminalOutput) -> None:
        """Text a subprocess or C library wrote straight to the terminal: shown as Playground output."""
        self._to_playground(message)

    def _to_playground(self, event) -> None:
        """Kernel events and terminal output go to the Playground; until its body is on screen
        they wait here."""
        screen = self._playground()
        if screen is not None and screen.ready:
            screen.handle_kernel_event(event)
        else:
            self._kernel_events.append(event)

    def take_kernel_events(self) -> list:
        events, self._kernel_events = self._kernel_events, []
        return events

    def _playground(self):
        from tui.screens.playground import PlaygroundScreen

        stack = self.get_screen_stack("playground") if "playground" in self._screen_stacks else []
        return stack[0] if stack and isinstance(stack[0], PlaygroundScreen) else None

    async def show_mode(self, mode: str):
        """Switch to a mode and wait until its screen's body is mounted; returns the screen."""
        import asyncio

        await self.switch_mode(mode)
        screen = self.screen
        while not getattr(screen, "ready", True):
            await asyncio.sleep(0.02)
        return screen

    @property
    def history(self):
        if self._history is None:
            from engine.repl.history import History

            self._history = History()
            if self._history.warning:
                self.notify(self._history.warning, severity="warning", timeout=10)
        return self._history

    def open_autograd(self, request) -> None:
        """Show a %autograd recording in the Autograd inspector."""
        async def show() -> None:
            screen = await self.show_mode("autograd")
            screen.show_request(request)

        self.call_later(show)

    def run_in_playground(self, source: str) -> None:
        """Show the Playground and run `source` there (it joins the history like a typed cell)."""
        async def run() -> None:
            screen = await self.show_mode("playground")
            screen.run_source(source)

        self.call_later(run)

    def open_example(self, key: str) -> None:
        """Show one of the Autograd inspector's built-in examples."""
        async def show() -> None:
            screen = await self.show_mode("autograd")
            screen.load_example(key)

        self.call_later(show)

    def open_training_defaults(self) -> None:
        """Show the Training screen with the tutorial's settings and start a run."""
        async def show() -> None:
            from engine.training import RunConfig

            screen = await self.show_mode("train")
            screen.set_config(RunConfig(device=self.device_spec))
            screen.action_start()

        self.call_later(show)

    # --- keys and palette -----------------------------------------------------------------
    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(list(TorchTUI.BINDINGS)))

    async def run_screen_action(self, mode: str, action: str) -> None:
        """Switch to `mode`, then run one of its screen's actions (used by the command palette)."""
        screen = await self.show_mode(mode)
        await screen.run_action(action)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode in SCREENS:
            title = t(f"screen.{mode}")
            yield SystemCommand(t("palette.open", screen=title), t(f"tip.{mode}"),
                                lambda m=mode: self.switch_mode(m))
            for binding in screen_class(mode).BINDINGS:
                if isinstance(binding, Binding) and binding.id and binding.description and binding.show:
                    yield SystemCommand(f"{title}: {t(binding.description)}",
                                        t(binding.tooltip) if binding.tooltip else "",
                                        lambda m=mode, a=binding.action: self.run_screen_action(m, a),
                                        discover=False)

    async def action_quit(self) -> None:
        # Stop what runs in threads first, so that exiting never waits on a busy worker.
        for stop in self.on_quit_hooks:
            stop()
        if self._kernel is not None:
            self._kernel.shutdown()
        self.exit()


def make_app(screen: str = "playground", device: str = "auto", lang: str = "en",
             warnings: tuple[str, ...] = (), theme: str | None = None, train_config=None) -> TorchTUI:
    """Build the app; the CLI and the tests both start here."""
    return TorchTUI(screen=screen, device=device, lang=lang, warnings=warnings, theme=theme,
                    train_config=train_config)
