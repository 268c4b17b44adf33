"""What to say under an out-of-memory error: what the failing call asked for (torch's own message
says), what PyTorch has allocated and reserved on that device and what is free, the namespace's
largest tensors there (names, shapes, bytes), and what to try. CUDA's `torch.OutOfMemoryError`
and the CPU allocator's RuntimeError (`DefaultCPUAllocator: can't allocate memory: you tried to
allocate N bytes`) alike. The namespace is the cell's: the globals of the traceback's outermost
frame of the learner's own code."""

from __future__ import annotations

import re
import sys
import types
from dataclasses import dataclass

from engine import cuda_memory
from engine.explain.frames import is_library
from engine.gpu_info import size_text
from engine.i18n import text
from engine.textwrap_cjk import wrap

CUDA_ASKED = re.compile(r"Tried to allocate ([\d.]+ [KMGTP]?i?B)")
CUDA_GPU = re.compile(r"GPU (\d+) has a total capacity of ([\d.]+ [KMGTP]?i?B) of which ([\d.]+ [KMGTP]?i?B) is free")
CUDA_BY_TORCH = re.compile(r"([\d.]+ [KMGTP]?i?B) is allocated by PyTorch, and ([\d.]+ [KMGTP]?i?B) is reserved")
CPU_ASKED = re.compile(r"can't allocate memory: you tried to allocate (\d+) bytes")
LARGEST_SHOWN = 5


@dataclass(frozen=True)
class OutOfMemory:
    """An out-of-memory error as its message and the allocator tell it."""

    device: str  # "cuda:0", "cpu"
    asked: str  # "2.00 GiB", as torch says it; "" when it does not
    allocated: str = ""
    reserved: str = ""
    free: str = ""
    total: str = ""


def parse(exc: BaseException) -> OutOfMemory | None:
    """The out-of-memory error `exc` is, or None for any other."""
    message = str(exc)
    torch = sys.modules.get("torch")
    cuda_error = torch is not None and isinstance(exc, getattr(torch, "OutOfMemoryError", ()))
    if cuda_error or (isinstance(exc, RuntimeError) and "CUDA out of memory" in message):
        gpu = CUDA_GPU.search(message)
        device = f"cuda:{gpu.group(1)}" if gpu else "cuda:0"
        asked = CUDA_ASKED.search(message)
        by_torch = CUDA_BY_TORCH.search(message)
        return OutOfMemory(device, asked.group(1) if asked else "",
                           _read(cuda_memory.allocated, device) or (by_torch.group(1) if by_torch else ""),
                           _read(cuda_memory.reserved, device) or (by_torch.group(2) if by_torch else ""),
                           _read(cuda_memory.free, device) or (gpu.group(3) if gpu else ""),
                           gpu.group(2) if gpu else "")
    cpu = CPU_ASKED.search(message)
    if isinstance(exc, RuntimeError) and cpu:
        return OutOfMemory("cpu", size_text(int(cpu.group(1))))
    return None


def _read(how, device: str) -> str:
    try:
        value = how(device)
    except Exception:  # noqa: BLE001 - a device that cannot say: the message's own figures stand
        return ""
    return size_text(value) if value is not None else ""


def namespace_of(tb: types.TracebackType | None) -> dict:
    """The cell's namespace: the globals of the outermost frame of the learner's code."""
    while tb is not None:
        if not is_library(tb.tb_frame.f_code.co_filename):
            return tb.tb_frame.f_globals
        tb = tb.tb_next
    return {}


def _on(device, wanted: str) -> bool:
    if wanted == "cpu":
        return device.type == "cpu"
    index = int(wanted.split(":")[1]) if ":" in wanted else 0
    return device.type == "cuda" and (device.index if device.index is not None else 0) == index


def largest(namespace: dict, device: str, most: int = LARGEST_SHOWN) -> list[tuple[str, str, int]]:
    """(name, shape or class, bytes) of the namespace's biggest tensors and modules on `device`."""
    torch = sys.modules.get("torch")
    if torch is None:
        return []
    from engine.tensors import shape_text

    found: list[tuple[str, str, int]] = []
    for name, value in list(namespace.items()):
        if name.startswith("_"):
            continue
        try:
            if isinstance(value, torch.Tensor) and value.layout == torch.strided and _on(value.device, device):
                found.append((name, shape_text(value.shape), value.numel() * value.element_size()))
            elif isinstance(value, torch.nn.Module):
                held = [t for t in (*value.parameters(), *value.buffers()) if _on(t.device, device)]
                if held:
                    found.append((name, type(value).__name__, sum(t.numel() * t.element_size() for t in held)))
        except Exception:  # noqa: BLE001 - a strange object is left out
            continue
    found.sort(key=lambda row: -row[2])
    return found[:most]


def explained(exc: BaseException, tb: types.TracebackType | None, lang: str, width: int = 80) -> str:
    """The lines under an out-of-memory error's traceback in `lang`; '' for any other error."""
    oom = parse(exc)
    if oom is None:
        return ""
    on_gpu = oom.device != "cpu"
    room = max(20, width - 1)
    lines = wrap(text("gpu.oom.asked" if oom.asked else "gpu.oom.asked_unknown", lang, size=oom.asked,
                      device=oom.device), room)
    if on_gpu:
        lines += wrap(text("gpu.oom.state", lang, allocated=oom.allocated or "?", reserved=oom.reserved or "?",
                           free=oom.free or "?", total=oom.total or "?"), room)
    biggest = largest(namespace_of(tb), oom.device)
    if biggest:
        lines.append(text("gpu.oom.largest", lang, device=oom.device))
        column = max(len(name) for name, _, _ in biggest)
        shapes = max(len(shape) for _, shape, _ in biggest)
        lines += [f"  {name:<{column}}  {shape:<{shapes}}  {size_text(n)}" for name, shape, n in biggest]
    else:
        lines.append(text("gpu.oom.none_named", lang, device=oom.device))
    name = biggest[0][0] if biggest else "x"
    try_key = "gpu.oom.try_cuda" if on_gpu else "gpu.oom.try_cpu"
    lines += wrap(text(try_key, lang, name=name), room)
    return "\n".join(lines)
