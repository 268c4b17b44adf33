"""Each NVIDIA GPU's own numbers, as NVIDIA's NVML reports them (the `pynvml` module of
`nvidia-ml-py`, the `[gpu]` extra): utilisation, memory used and total, temperature, power, and
the processes on it with their memory. Torch-free: the app reads it in its own process, in a
thread, once a second. Without the module or a driver, `read()` says why in one Said."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from engine.i18n import Said, said


@dataclass(frozen=True)
class GpuProcess:
    """A process using a GPU; `used_bytes` None where the driver does not say."""

    pid: int
    used_bytes: int | None = None


@dataclass(frozen=True)
class GpuReading:
    """One GPU at one moment; a field the driver does not report is None."""

    index: int
    name: str
    utilisation: int | None = None  # percent of the last sample period a kernel ran
    memory_used: int | None = None  # bytes
    memory_total: int | None = None
    temperature: int | None = None  # °C
    power_w: float | None = None
    processes: tuple[GpuProcess, ...] = ()


@dataclass(frozen=True)
class GpuSnapshot:
    """Every GPU's reading, or why there is none (`unavailable`)."""

    gpus: tuple[GpuReading, ...] = ()
    unavailable: Said | None = None


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


class NvmlReader:
    """Opens NVML on the first read and keeps it open until `close()`."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._why: Said | None = None

    def _open(self) -> Any:
        if self._nvml is not None or self._why is not None:
            return self._nvml
        try:
            nvml = importlib.import_module("pynvml")
        except ImportError:
            self._why = said("gpu.no_nvml")
            return None
        try:
            nvml.nvmlInit()
        except Exception as exc:  # NVMLError: no driver, no GPU; OSError: no libnvidia-ml
            self._why = said("gpu.no_driver", error=_text(exc) or type(exc).__name__)
            return None
        self._nvml = nvml
        return nvml

    def read(self) -> GpuSnapshot:
        nvml = self._open()
        if nvml is None:
            return GpuSnapshot((), self._why)
        try:
            count = int(nvml.nvmlDeviceGetCount())
        except Exception as exc:
            return GpuSnapshot((), said("gpu.no_driver", error=_text(exc) or type(exc).__name__))
        return GpuSnapshot(tuple(self._one(nvml, i) for i in range(count)))

    @staticmethod
    def _one(nvml: Any, index: int) -> GpuReading:
        error = getattr(nvml, "NVMLError", Exception)

        def asked(call, *args):
            try:
                return call(*args)
            except error:  # (not supported on this GPU: left out)
                return None

        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        name = asked(nvml.nvmlDeviceGetName, handle)
        rates = asked(nvml.nvmlDeviceGetUtilizationRates, handle)
        memory = asked(nvml.nvmlDeviceGetMemoryInfo, handle)
        temperature = asked(nvml.nvmlDeviceGetTemperature, handle, getattr(nvml, "NVML_TEMPERATURE_GPU", 0))
        power = asked(nvml.nvmlDeviceGetPowerUsage, handle)  # milliwatts
        running = asked(nvml.nvmlDeviceGetComputeRunningProcesses, handle) or ()
        processes = []
        for p in running:
            used = getattr(p, "usedGpuMemory", None)
            processes.append(GpuProcess(int(p.pid), int(used) if isinstance(used, int) and used >= 0 else None))
        return GpuReading(
            index, _text(name) if name is not None else f"GPU {index}",
            int(rates.gpu) if rates is not None else None,
            int(memory.used) if memory is not None else None,
            int(memory.total) if memory is not None else None,
            int(temperature) if temperature is not None else None,
            power / 1000 if power is not None else None,
            tuple(sorted(processes, key=lambda p: -(p.used_bytes or 0))))

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass
        self._nvml = None
        self._why = None


def size_text(n: int | None) -> str:
    """`3.2 GiB`, `512 MiB`; `?` for an unknown size."""
    if n is None:
        return "?"
    for unit, scale in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20),
                        ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"
