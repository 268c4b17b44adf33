"""The app's side of the kernel: start it, talk to it, restart it, notice when it dies.

The kernel is an ipykernel process (engine.kernel loaded as an extension) that owns torch and the
GPU; this process never imports torch. One interface (base.Kernel) with one status value; the app's
own kernel (own) and an attached one (attached) share the Jupyter protocol core (jupyter), and a
kernel in this process (fake) stands in for both in tests. What the kernel says arrives as the
events of `events` and engine.protocol's.
"""

from __future__ import annotations

from pathlib import Path

from tui.kernel.attached import AttachedKernel
from tui.kernel.base import Kernel
from tui.kernel.own import OwnKernel


def make_kernel(device: str = "auto", existing: Path | None = None, on_event=None) -> Kernel:
    """The app's own kernel, or someone else's through its connection file (`--existing`)."""
    if existing is not None:
        return AttachedKernel(existing, on_event, device=device)
    return OwnKernel(on_event, device=device)
