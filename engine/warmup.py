"""Load torch (and the rest of the numeric stack) in a background thread without freezing the
thread that draws the UI.

Two things hold Python's GIL for long stretches while torch loads, and every other thread stops:
- the dynamic loader mapping libtorch (~190 ms here), inside the import of torch._C. Loading the
  same libraries first through libc's dlopen, called via ctypes (which releases the GIL for
  foreign calls), leaves the import only a cheap second look-up;
- the cyclic garbage collector walking the hundreds of thousands of objects the import creates
  (pauses of 100 ms and more). Collection is paused during the import, and gc.freeze() then moves
  everything loaded so far out of the collector's sight, so later collections stay short.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import os
import sys
import threading
from pathlib import Path

# In dependency order; ones that are absent or fail to load are skipped (torch then loads them
# itself, as usual).
LIBRARIES = ("libtorch_global_deps.so", "libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so",
             "libtorch.so", "libtorch_python.so")
MODULES = ("torch", "numpy", "torch.nn.functional", "torch.optim", "torch.utils.data", "sklearn.datasets")

_lock = threading.Lock()
_done = threading.Event()
_error: list[BaseException] = []


def preload_torch_libraries() -> list[str]:
    """dlopen torch's shared libraries with the GIL released (Linux); returns those loaded."""
    if not sys.platform.startswith("linux"):
        return []
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return []
    lib_dir = Path(list(spec.submodule_search_locations)[0]) / "lib"
    try:
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
    except (OSError, AttributeError):
        return []
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    loaded = []
    for name in LIBRARIES:
        path = lib_dir / name
        if path.exists() and dlopen(os.fsencode(path), os.RTLD_NOW | os.RTLD_GLOBAL):
            loaded.append(name)
    return loaded


def _first_use() -> None:
    """One tiny step of each training path: the first optimizer step, backward and DataLoader
    pass import more of torch lazily, and those objects should be frozen with the rest."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    x, y = torch.randn(8, 1), torch.randn(8, 1)
    model = torch.nn.Linear(1, 1)
    for optimizer in (torch.optim.SGD(model.parameters(), lr=0.01),
                      torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
                      torch.optim.Adam(model.parameters(), lr=0.01)):
        for bx, by in DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True):
            loss = torch.nn.functional.mse_loss(model(bx), by)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def freeze_long_lived() -> None:
    """Move every object alive now out of the collector's sight (they live as long as the app)."""
    gc.freeze()


def load() -> None:
    """Import torch and friends once, gently; other callers wait for the first one to finish.
    Raises what the import raised (a broken install), in every caller."""
    with _lock:
        if not _done.is_set():
            try:
                preload_torch_libraries()
                was_enabled = gc.isenabled()
                gc.disable()
                try:
                    for module in MODULES:
                        importlib.import_module(module)
                    _first_use()
                finally:
                    gc.freeze()
                    if was_enabled:
                        gc.enable()
            except BaseException as exc:  # noqa: BLE001 - re-raised below, in every caller
                _error.append(exc)
            finally:
                _done.set()
    if _error:
        raise _error[0]
