"""What the kernel's modules share: whose kernel this is, what every namespace starts with, and the
width the app's log shows. Its own module so that the extension, the magics and the request
handlers read one state without importing each other."""

from __future__ import annotations

import os
from dataclasses import dataclass

from engine.kernel import guards
from engine.kernel.bridge import bridge
from engine.kernel.live import live_function

OWN_KERNEL_ENV = "TORCHTUI_KERNEL"  # set by the app on the kernels it starts itself


def own_kernel() -> bool:
    """True in a kernel the app started itself; False in someone else's (a notebook's, IPython)."""
    return os.environ.get(OWN_KERNEL_ENV) == "1"


def starting_names() -> dict:
    """What every namespace starts with (and gets back after %reset)."""
    # (torch is imported when the kernel first needs it, not when the extension is imported)
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn, optim

    return {"torch": torch, "np": np, "nn": nn, "optim": optim, "F": F}


def fill_namespace(ip) -> None:
    """Put the starting names (and live(), and in the app's own kernel the guards) in the namespace."""
    names = starting_names()
    names["live"] = live_function(ip, bridge.emit)
    if own_kernel():
        names.update(guards.replacements())
    else:  # someone else's namespace (a notebook's): a name they already use is theirs
        names = {k: v for k, v in names.items() if k not in ip.user_ns}
    ip.user_ns.update(names)
    ip.user_ns_hidden.update(names)  # %who and the variables list leave them out


def ready_names(namespace: dict) -> list[str]:
    """Which of the names every namespace starts with hold those modules here: in someone else's
    kernel `np` may be the learner's own string."""
    return [name for name, module in starting_names().items() if namespace.get(name) is module]


@dataclass
class Display:
    """How wide the app's output log is: %plot draws at that width."""

    columns: int = 80


display = Display()
