"""engine.gpu_info: NVML's numbers per GPU, from a fake pynvml; without the module or a driver,
one sentence."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.gpu_info import GpuProcess, NvmlReader, size_text
from tests.fake_nvml import fake_nvml


def test_each_gpu_with_its_numbers_and_processes(monkeypatch):
    nvml = fake_nvml(kernel_pid=4242)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    reader = NvmlReader()
    snapshot = reader.read()
    assert snapshot.unavailable is None
    first, second = snapshot.gpus
    assert (first.index, first.name, first.utilisation, first.temperature) == (0, "NVIDIA H200", 37, 41)
    assert (first.memory_used, first.memory_total) == (3 * 2**30, 140 * 2**30)
    assert first.power_w == 123.4
    assert first.processes == (GpuProcess(4242, 2 * 2**30), GpuProcess(777, 512 * 2**20))
    assert second.name == "NVIDIA T4" and second.power_w is None and second.processes == ()  # (bytes decoded)
    reader.read()
    reader.close()
    assert nvml.calls == ["init", "shutdown"]  # opened once, closed once


def test_without_the_module_or_a_driver_it_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # (an import of it raises ImportError)
    snapshot = NvmlReader().read()
    assert snapshot.gpus == () and snapshot.unavailable is not None
    assert "not installed" in snapshot.unavailable.words("en") and "torchtui[gpu]" in snapshot.unavailable.words("en")
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(fail_init=True))
    words = NvmlReader().read().unavailable.words("en")
    assert "no NVIDIA driver" in words and "Driver Not Loaded" in words


def test_sizes():
    assert [size_text(n) for n in (None, 12, 2048, 3 * 2**30, 2**62)] == ["?", "12 B", "2.0 KiB", "3.0 GiB", "4.0 EiB"]


@pytest.mark.slow
def test_the_reader_imports_no_torch():
    code = "import sys, engine.gpu_info; engine.gpu_info.NvmlReader().read(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
