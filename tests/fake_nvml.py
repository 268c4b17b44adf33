"""A stand-in for NVIDIA's `pynvml` module (nvidia-ml-py) with the calls engine.gpu_info makes:
two GPUs, the second without power readings, processes on the first."""

from __future__ import annotations

import types
from types import SimpleNamespace


class NVMLError(Exception):
    pass


def fake_nvml(kernel_pid: int = 4242, fail_init: bool = False) -> types.ModuleType:
    nvml = types.ModuleType("pynvml")
    calls: list[str] = []
    gpus = [
        dict(name="NVIDIA H200", util=37, used=3 * 2**30, total=140 * 2**30, temp=41, power=123_400,
             procs=[SimpleNamespace(pid=kernel_pid, usedGpuMemory=2 * 2**30),
                    SimpleNamespace(pid=777, usedGpuMemory=512 * 2**20)]),
        dict(name=b"NVIDIA T4", util=0, used=0, total=16 * 2**30, temp=30, power=None, procs=[]),
    ]

    def init():
        calls.append("init")
        if fail_init:
            raise NVMLError("Driver Not Loaded")

    def power(handle):
        if gpus[handle]["power"] is None:
            raise NVMLError("Not Supported")
        return gpus[handle]["power"]

    nvml.NVMLError = NVMLError  # type: ignore[attr-defined]
    nvml.NVML_TEMPERATURE_GPU = 0  # type: ignore[attr-defined]
    nvml.nvmlInit = init  # type: ignore[attr-defined]
    nvml.nvmlShutdown = lambda: calls.append("shutdown")  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetCount = lambda: len(gpus)  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetName = lambda h: gpus[h]["name"]  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetUtilizationRates = lambda h: SimpleNamespace(gpu=gpus[h]["util"], memory=0)  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetMemoryInfo = lambda h: SimpleNamespace(  # type: ignore[attr-defined]
        used=gpus[h]["used"], total=gpus[h]["total"], free=gpus[h]["total"] - gpus[h]["used"])
    nvml.nvmlDeviceGetTemperature = lambda h, sensor: gpus[h]["temp"]  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetPowerUsage = power  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetComputeRunningProcesses = lambda h: gpus[h]["procs"]  # type: ignore[attr-defined]
    nvml.calls = calls  # type: ignore[attr-defined]
    return nvml
