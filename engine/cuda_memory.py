"""PyTorch's own view of CUDA memory in this process: per device what tensors hold (allocated),
what the caching allocator keeps from the driver (reserved), the peak, and the driver's free
bytes; resetting the peak; torch's memory summary. All of it is empty or None without CUDA."""

from __future__ import annotations

from engine.protocol import TorchMemory


def _cuda():
    import torch

    return torch.cuda if torch.cuda.is_available() else None


def _index(device: str) -> int:
    return int(device.split(":")[1]) if ":" in device else 0


def devices() -> list[str]:
    cuda = _cuda()
    return [f"cuda:{i}" for i in range(cuda.device_count())] if cuda is not None else []


def allocated(device: str) -> int | None:
    cuda = _cuda()
    return int(cuda.memory_allocated(_index(device))) if cuda is not None else None


def reserved(device: str) -> int | None:
    cuda = _cuda()
    return int(cuda.memory_reserved(_index(device))) if cuda is not None else None


def free(device: str) -> int | None:
    """Bytes the driver still has free on the device (every process's use counted)."""
    cuda = _cuda()
    return int(cuda.mem_get_info(_index(device))[0]) if cuda is not None else None


def stats() -> tuple[TorchMemory, ...]:
    cuda = _cuda()
    if cuda is None:
        return ()
    return tuple(TorchMemory(d, int(cuda.memory_allocated(i)), int(cuda.memory_reserved(i)),
                             int(cuda.max_memory_allocated(i))) for i, d in enumerate(devices()))


def reset_peak() -> int:
    cuda = _cuda()
    if cuda is None:
        return 0
    for i in range(cuda.device_count()):
        cuda.reset_peak_memory_stats(i)
    return cuda.device_count()


def summary(device: str) -> str:
    cuda = _cuda()
    return str(cuda.memory_summary(_index(device))) if cuda is not None else ""
