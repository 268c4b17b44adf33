"""F12 GPU on the fake kernel: NVML's numbers (a fake pynvml) with the kernel's process marked,
PyTorch's memory from the kernel, the peak reset and the memory summary; without NVML one line.
And the Playground's variables pane with its per-device totals."""

from __future__ import annotations

import sys

from engine.protocol import CudaMemory, MemorySummary, ResetPeakMemory, TorchMemory, Variables
from engine.repl.variables import Variable
from tests.fake_nvml import fake_nvml
from tests.helpers import running, static_text, wait_for
from tui.app import make_app
from tui.kernel.fake import FakeKernel

SUMMARY = "|                  PyTorch CUDA memory summary, device ID 0                 |"


def gpu_kernel(pid: int = 4242) -> FakeKernel:
    kernel = FakeKernel(device_text="cuda:0")
    kernel.pid = pid
    kernel.answers[CudaMemory] = lambda _r: (TorchMemory("cuda:0", 2**30, 2 * 2**30, 3 * 2**30),)
    kernel.answers[ResetPeakMemory] = lambda _r: 1
    kernel.answers[MemorySummary] = lambda r: SUMMARY if r.device == "cuda:0" else ""
    return kernel


def text_of(screen, selector: str) -> str:
    return static_text(screen.query_one(selector))


async def test_the_panel_shows_each_gpu_its_processes_and_pytorchs_memory(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(kernel_pid=4242))
    kernel = gpu_kernel()
    app = make_app(kernel=kernel)
    async with running(app, size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 30)
        await pilot.press("f12")
        assert await wait_for(pilot, lambda: app.current_mode == "gpu" and app.screen.snapshot is not None, 30)
        screen = app.screen
        nvml = text_of(screen, "#gpu-nvml")
        assert "GPU 0 · NVIDIA H200 · busy 37% · memory 3.0 GiB / 140.0 GiB · 41 °C · 123 W" in nvml
        assert "pid 4242  2.0 GiB ← this kernel" in nvml and "pid 777  512.0 MiB" in nvml
        assert "← this kernel" not in nvml.split("pid 777")[1]
        assert "GPU 1 · NVIDIA T4 · busy 0% · memory 0 B / 16.0 GiB · 30 °C · ?" in nvml
        assert "no process is computing on it" in nvml
        assert await wait_for(pilot, lambda: "allocated 1.0 GiB" in text_of(screen, "#gpu-torch"), 30)
        assert "cuda:0  allocated 1.0 GiB · reserved 2.0 GiB · peak 3.0 GiB" in text_of(screen, "#gpu-torch")
        assert "status-line" in {w.id for w in screen.query("*")}
        assert "GPU" in str(screen.query_one("#status-line").render())  # the status line names the screen
        await pilot.press("f6")
        assert await wait_for(pilot, lambda: any(isinstance(r, ResetPeakMemory) for r in kernel.asked), 30)
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: screen.summary_text == SUMMARY, 30)
        assert screen.query_one("#gpu-summary-box").has_class("-shown")
        assert SUMMARY in text_of(screen, "#gpu-summary")
        await pilot.press("f7")  # again: hidden
        assert await wait_for(pilot, lambda: not screen.query_one("#gpu-summary-box").has_class("-shown"))


async def test_without_nvml_the_panel_says_so_in_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)
    kernel = gpu_kernel()
    kernel.answers[CudaMemory] = lambda _r: ()  # a kernel without CUDA
    app = make_app(screen="gpu", kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: getattr(app.screen, "snapshot", None) is not None, 30)
        nvml = text_of(app.screen, "#gpu-nvml").strip()
        assert "NVML module is not installed" in nvml and "torchtui[gpu]" in nvml
        assert await wait_for(pilot, lambda: "sees no CUDA device" in text_of(app.screen, "#gpu-torch"), 30)


async def test_the_variables_pane_totals_tensor_bytes_per_device():
    kernel = FakeKernel()
    app = make_app(kernel=kernel)
    rows = (Variable("x", "tensor", "(1024,)", "float32", "cpu", 4096, False),
            Variable("w", "tensor", "(256, 1024)", "float32", "cuda:0", 2**20, True),
            Variable("b", "tensor", "(1024,)", "float32", "cuda:0", 4096, True),
            Variable("net", "module", "Linear", "-", "cuda:0", 10**6, True))
    async with running(app, size=(120, 30)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready and app.screen.ready, 30)
        kernel.send(Variables(rows))
        totals = app.screen.query_one("#vars-totals")
        assert await wait_for(pilot, lambda: totals.has_class("-shown"), 30)
        assert static_text(totals) == "tensors: cpu 4.0K  cuda:0 1.0M"
        kernel.send(Variables(()))
        assert await wait_for(pilot, lambda: not totals.has_class("-shown"), 30)
