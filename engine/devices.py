"""Which devices torch can use here (cpu, each CUDA device, mps), and checking a user's choice."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.i18n import SaidError, said, say

SPEC = re.compile(r"^(auto|cpu|mps|cuda(?::(\d+))?)$")


class DeviceError(SaidError, ValueError):
    """A device the user asked for that is malformed or not present; the message says which are."""


@dataclass(frozen=True)
class DeviceInfo:
    """One device torch can run on, with what a status line shows about it."""

    name: str  # "cpu", "cuda:0", "mps"
    label: str  # a human name: "NVIDIA H200"
    total_bytes: int | None = None
    used_bytes: int | None = None

    def describe(self) -> str:
        parts = [self.name]
        if self.label and self.label != self.name:
            parts.append(self.label)
        if self.total_bytes:
            parts.append(f"{self.total_bytes / 2**30:.0f} GiB")
        return " · ".join(parts)


def check_syntax(spec: str) -> str:
    """Normalise a device spec without importing torch; raise DeviceError if it is malformed."""
    spec = spec.strip().lower()
    if not SPEC.match(spec):
        raise DeviceError("err.device.unknown", spec=repr(spec))
    return spec


def _mps_available(torch) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def versions() -> tuple[str, int]:
    """torch's version, and how many CUDA devices it sees (0: none, or a CPU build)."""
    import torch

    return torch.__version__, torch.cuda.device_count() if torch.cuda.is_available() else 0


def list_devices() -> list[DeviceInfo]:
    """Every device present: cpu first, then each CUDA device, then mps."""
    import torch

    found = [DeviceInfo("cpu", "cpu")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            found.append(DeviceInfo(f"cuda:{i}", props.name, props.total_memory, None))
    if _mps_available(torch):
        found.append(DeviceInfo("mps", "Apple GPU"))
    return found


def resolve(spec: str = "auto") -> str:
    """Turn a spec into a present device name (auto picks cuda:0, then mps, then cpu)."""
    import torch

    spec = check_syntax(spec)
    if spec == "auto":
        if torch.cuda.is_available():
            return "cuda:0"
        return "mps" if _mps_available(torch) else "cpu"
    if spec == "cuda":
        spec = "cuda:0"
    present = [d.name for d in list_devices()]
    if spec not in present:
        if spec.startswith("cuda") and not torch.cuda.is_available():
            why = said("err.device.no_cuda")
        elif spec == "mps":
            why = said("err.device.no_mps")
        else:
            why = said("err.device.absent", spec=spec)
        raise DeviceError("err.device.refused", spec=repr(spec), why=why, present=", ".join(present))
    return spec


def info(name: str) -> DeviceInfo:
    """The DeviceInfo for a present device name, with memory in use for CUDA."""
    for dev in list_devices():
        if dev.name == name:
            if name.startswith("cuda"):
                return DeviceInfo(dev.name, dev.label, dev.total_bytes, memory_used(name))
            return dev
    raise DeviceError("err.device.absent", spec=repr(name))


def memory_used(name: str) -> int | None:
    """Bytes in use on a CUDA device (all processes), or None elsewhere."""
    if not name.startswith("cuda"):
        return None
    import torch

    index = int(name.split(":")[1]) if ":" in name else 0
    free, total = torch.cuda.mem_get_info(index)
    return total - free


def status_text(name: str) -> str:
    """The status line text for a device: `cuda:0 · NVIDIA H200 · 139 GiB · 3.2 GiB used`."""
    dev = info(name)
    text = dev.describe()
    if dev.used_bytes is not None:
        text += " · " + say("device.used", size=f"{dev.used_bytes / 2**30:.1f}")
    return text


def free_cuda_cache() -> None:
    """Give torch's cached, unused CUDA memory back to the driver (a no-op without CUDA)."""
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:
        pass
