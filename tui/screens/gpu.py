"""F12 GPU: each GPU's own numbers from NVIDIA's NVML (utilisation, memory, temperature, power,
the processes on it, the kernel's marked), read once a second in a thread of the app's process,
and PyTorch's memory in the kernel as PyTorch counts it (allocated, reserved, peak), with keys to
reset the peak and to read torch.cuda.memory_summary()."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from engine.gpu_info import GpuSnapshot, NvmlReader, size_text
from engine.protocol import CudaMemory, MemorySummary, ResetPeakMemory
from tui.asking import Answer, ask, stale
from tui.i18n import said_text, t
from tui.screens.base import BaseScreen
from tui.widgets.wrapped import Wrapped

if TYPE_CHECKING:
    from engine.gpu_info import GpuReading
    from engine.protocol import TorchMemory

READ_EVERY_S = 1.0
CANCEL_CHECK_S = 0.05  # how soon the reading thread sees it is to stop (the app's exit waits for it)


class GpuScreen(BaseScreen):
    """The GPUs as their driver sees them, and the kernel's memory as PyTorch sees it."""

    DEFAULT_CSS = """
    #gpu-nvml { height: auto; padding: 0 1; }
    #gpu-torch { height: auto; padding: 1 1 0 1; }
    #gpu-summary-box { height: 1fr; border: round $primary; display: none; }
    #gpu-summary-box.-shown { display: block; }
    #gpu-summary { padding: 0 1; }
    """

    class Read(Message):
        """The NVML reading of every GPU (a newer one replaces one not yet drawn)."""

        def __init__(self, snapshot: GpuSnapshot) -> None:
            super().__init__()
            self.snapshot = snapshot

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, GpuScreen.Read)

    class TorchCounted(Answer):
        """PyTorch's memory per CUDA device, from the kernel."""

    class PeakReset(Answer):
        """The peak was reset on this many devices."""

    class Summarised(Answer):
        """torch.cuda.memory_summary(), from the kernel."""

    TITLE_KEY = "screen.gpu"
    BINDINGS = [
        Binding("f6", "reset_peak", "gpu.reset", id="gpu.reset", tooltip="tip.gpu.reset"),
        Binding("f7", "summary", "gpu.summary", id="gpu.summary", tooltip="tip.gpu.summary"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: GpuSnapshot | None = None
        self.torch_memory: tuple[TorchMemory, ...] | None = None
        self.torch_error = ""
        self.summary_text = ""
        self.visible = True
        self._asking = False

    def compose_body(self) -> ComposeResult:
        yield Static(t("gpu.reading"), id="gpu-nvml")
        yield Static(t("gpu.torch_waiting"), id="gpu-torch")
        with VerticalScroll(id="gpu-summary-box"):
            yield Static("", id="gpu-summary")

    def body_ready(self) -> None:
        self.read_gpus()
        self.set_interval(READ_EVERY_S, self.ask_torch)
        self.ask_torch()

    def on_screen_resume(self) -> None:
        self.visible = True
        if self.ready:
            self.ask_torch()

    def on_screen_suspend(self) -> None:
        self.visible = False

    # --- NVML, in a thread -------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="gpu-read")
    def read_gpus(self) -> None:
        worker = get_current_worker()
        reader = NvmlReader()
        try:
            while not worker.is_cancelled:
                if self.visible:
                    snapshot = reader.read()
                    self.post_message(self.Read(snapshot))
                    if snapshot.unavailable is not None:
                        return  # no NVML or no driver: said once, nothing more to read
                until = time.monotonic() + READ_EVERY_S
                while not worker.is_cancelled and time.monotonic() < until:
                    time.sleep(CANCEL_CHECK_S)
        finally:
            reader.close()

    @on(Read)
    def _read(self, message: Read) -> None:
        self.snapshot = message.snapshot
        self.query_one("#gpu-nvml", Static).update(Wrapped(self.nvml_text()))

    def nvml_text(self) -> str:
        snapshot = self.snapshot
        if snapshot is None:
            return t("gpu.reading")
        if snapshot.unavailable is not None:
            return said_text(snapshot.unavailable)
        if not snapshot.gpus:
            return t("gpu.none")
        return "\n".join(self._gpu_lines(gpu) for gpu in snapshot.gpus)

    def _gpu_lines(self, gpu: GpuReading) -> str:
        def known(value, fmt: str) -> str:
            return fmt.format(value) if value is not None else "?"

        lines = [t("gpu.line", index=gpu.index, name=gpu.name, util=known(gpu.utilisation, "{}%"),
                   used=size_text(gpu.memory_used), total=size_text(gpu.memory_total),
                   temp=known(gpu.temperature, "{} °C"), power=known(gpu.power_w, "{:.0f} W"))]
        kernel_pid = self.app.kernel.process_id()
        for p in gpu.processes:
            mark = " " + t("gpu.kernel_mark") if kernel_pid is not None and p.pid == kernel_pid else ""
            lines.append(f"  pid {p.pid}  {size_text(p.used_bytes)}{mark}")
        if not gpu.processes:
            lines.append("  " + t("gpu.no_processes"))
        return "\n".join(lines)

    # --- PyTorch's count, from the kernel ----------------------------------------------------
    def ask_torch(self) -> None:
        kernel = self.app.kernel
        if self._asking or not self.visible or not kernel.ready:
            return
        self._asking = True
        ask(self, self.TorchCounted, lambda: kernel.request(CudaMemory()))

    @on(TorchCounted)
    def _counted(self, answer: TorchCounted) -> None:
        self._asking = False
        if stale(self, answer):
            return
        if answer.error:
            self.torch_error = answer.error
        else:
            self.torch_memory, self.torch_error = tuple(answer.result), ""
        self.query_one("#gpu-torch", Static).update(Wrapped(self.torch_text()))

    def torch_text(self) -> str:
        if self.torch_error:
            return t("gpu.torch_error", error=self.torch_error)
        if self.torch_memory is None:
            return t("gpu.torch_waiting")
        if not self.torch_memory:
            return t("gpu.torch_none")
        lines = [t("gpu.torch_title")]
        lines += [t("gpu.torch_line", device=m.device, allocated=size_text(m.allocated),
                    reserved=size_text(m.reserved), peak=size_text(m.peak)) for m in self.torch_memory]
        return "\n".join(lines)

    # --- keys -------------------------------------------------------------------------------
    def action_reset_peak(self) -> None:
        kernel = self.app.kernel
        ask(self, self.PeakReset, lambda: kernel.request(ResetPeakMemory()))

    @on(PeakReset)
    def _peak_reset(self, answer: PeakReset) -> None:
        if answer.error:
            self.notify(answer.error, severity="error")
            return
        self.notify(t("gpu.peak_reset") if answer.result else t("gpu.torch_none"))
        self.ask_torch()

    def action_summary(self) -> None:
        box = self.query_one("#gpu-summary-box")
        if box.has_class("-shown"):
            box.remove_class("-shown")
            return
        device = self.torch_memory[0].device if self.torch_memory else "cuda:0"
        kernel = self.app.kernel
        ask(self, self.Summarised, lambda: kernel.request(MemorySummary(device)))

    @on(Summarised)
    def _summarised(self, answer: Summarised) -> None:
        if stale(self, answer):
            return
        self.summary_text = (t("gpu.torch_error", error=answer.error) if answer.error
                             else answer.result or t("gpu.torch_none"))
        self.query_one("#gpu-summary", Static).update(Text(self.summary_text))
        box = self.query_one("#gpu-summary-box")
        box.add_class("-shown")
        box.focus()
