"""engine.explain.memory: under an out-of-memory error, what was asked, what is held, the
namespace's largest tensors on that device and what to try; CUDA's (raised by hand, with torch's
own message, the allocator's figures monkeypatched: no CUDA here) and the CPU allocator's (real)."""

from __future__ import annotations

import pytest
import torch

from engine import cuda_memory
from engine.explain import memory
from engine.explain.explainer import explained
from tui.kernel.display import hint_for

CUDA_MESSAGE = ("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.15 GiB of which "
                "1.06 GiB is free. Including non-PyTorch memory, this process has 78.08 GiB memory in use. Of the "
                "allocated memory 76.50 GiB is allocated by PyTorch, and 1.08 GiB is reserved by PyTorch but "
                "unallocated. If reserved but unallocated memory is large try setting "
                "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for "
                "Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)")


def raised(exc: BaseException, namespace: dict):
    """`exc` raised from a cell's code whose globals are `namespace` (as a cell's are user_ns)."""
    namespace["__exc"] = exc
    code = compile("raise __exc", "<ipython-input-1>", "exec")
    try:
        exec(code, namespace)
    except BaseException as caught:  # noqa: BLE001
        return caught, caught.__traceback__.tb_next  # from the cell's frame, as IPython's run_code hands it on
    raise AssertionError("not raised")


class OnCuda:
    """A stand-in for a CUDA tensor: the namespace walk asks only its device, layout and size."""


def test_cuda_out_of_memory_says_what_was_asked_held_free_and_the_largest_names(monkeypatch):
    monkeypatch.setattr(cuda_memory, "allocated", lambda device: 76 * 2**30)
    monkeypatch.setattr(cuda_memory, "reserved", lambda device: 77 * 2**30)
    monkeypatch.setattr(cuda_memory, "free", lambda device: 2**30)
    namespace = {"weights": torch.ones(4, 4), "x": torch.ones(2)}
    # the namespace's tensors "on cuda:0": no CUDA here, so the device test is told cpu counts as it
    monkeypatch.setattr(memory, "_on", lambda device, wanted: device.type == "cpu")
    exc, tb = raised(torch.OutOfMemoryError(CUDA_MESSAGE), namespace)
    words = explained(exc, tb, "en", 80)
    assert "Out of memory on cuda:0: this call asked for 2.00 GiB more." in words
    assert "76.0 GiB allocated" in words and "77.0 GiB reserved" in words and "1.0 GiB free of 79.15 GiB" in words
    lines = words.splitlines()
    assert lines.index("The largest of your names on cuda:0:") < lines.index("  weights  (4, 4)  64 B")
    assert "  x        (2,)    8 B" in lines
    assert "`del weights` then `torch.cuda.empty_cache()`" in words and "F9" in words and "smaller batch" in words
    zh = explained(exc, tb, "zh", 80)
    assert "cuda:0 内存不足" in zh and "2.00 GiB" in zh and "torch.cuda.empty_cache()" in zh


def test_without_the_allocators_figures_the_message_gives_them():
    exc, tb = raised(torch.OutOfMemoryError(CUDA_MESSAGE), {})  # (no CUDA: cuda_memory reads None)
    words = explained(exc, tb, "en", 80)
    assert "76.50 GiB allocated" in words and "1.08 GiB reserved" in words and "1.06 GiB free of 79.15 GiB" in words
    assert "None of your names holds a tensor on cuda:0" in words


def test_the_cpu_allocators_error_says_what_was_asked():
    namespace = {"big": torch.ones(1000), "small": torch.ones(3)}
    namespace["torch"] = torch
    code = compile("torch.empty(2**62, dtype=torch.uint8)", "<ipython-input-2>", "exec")
    with pytest.raises(RuntimeError) as info:
        exec(code, namespace)
    exc = info.value
    assert "DefaultCPUAllocator: can't allocate memory" in str(exc)  # torch's real message
    words = explained(exc, exc.__traceback__.tb_next, "en", 80)  # (the cell's frame first, as in a kernel)
    assert "Out of memory on cpu: this call asked for 4.0 EiB more." in words
    assert "  big    (1000,)  3.9 KiB" in words.splitlines()
    assert "`del big`" in words and "F9" in words


def test_other_errors_are_not_out_of_memory():
    assert memory.parse(RuntimeError("mat1 and mat2 shapes cannot be multiplied")) is None
    assert memory.parse(ValueError("out of memory")) is None


def test_the_apps_hint_stays_out_when_the_kernel_explained():
    explained_tb = ("Traceback", "OutOfMemoryError: CUDA out of memory.", "\x1b[33mOut of memory on cuda:0\x1b[0m")
    assert hint_for("OutOfMemoryError", "CUDA out of memory.", explained_tb) == ""
    assert hint_for("RuntimeError", "can't allocate memory", explained_tb) == ""
    # a kernel without torchtui's engine (someone else's) explains nothing: the hint stays
    assert "F9" in hint_for("OutOfMemoryError", "CUDA out of memory.", ("Traceback", "OutOfMemoryError: …"))


@pytest.mark.slow
def test_in_a_kernel_the_explanation_is_under_the_traceback_and_the_next_cell_works(kernel):
    from engine.protocol import CudaMemory, MemorySummary, ResetPeakMemory
    from tests.kernel_driver import ANSI

    kernel.run("held = torch.ones(1000)")
    record = kernel.run("torch.empty(2**62, dtype=torch.uint8)")
    assert record.error is not None
    parts = record.error.traceback
    assert parts[-1].startswith("\x1b[33m")  # the explanation, last, in yellow
    text = ANSI.sub("", parts[-1])
    assert "Out of memory on cpu: this call asked for 4.0 EiB more." in text and "held" in text
    assert hint_for(record.error.ename, record.error.evalue, parts) == ""  # no second hint from the app
    assert kernel.run("float(torch.ones(3).sum())").value == "3.0"
    # PyTorch's memory as the GPU panel asks for it: a kernel without CUDA has none to tell
    assert kernel.request(CudaMemory()) == ()
    assert kernel.request(ResetPeakMemory()) == 0
    assert kernel.request(MemorySummary("cuda:0")) == ""
