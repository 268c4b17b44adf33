"""What the app's screens can ask the kernel, by name: each handler takes plain arguments and
returns data (dataclasses cross as JSON, see engine.wire)."""

from __future__ import annotations

import sys

from engine.kernel import inspections
from engine.kernel.bridge import RequestError
from engine.kernel.training_run import TrainingRun

MIN_PRINT_WIDTH = 40


def ready_names(namespace: dict) -> list[str]:
    """Which of the names every namespace starts with (torch, np, nn, optim, F) hold those modules
    here: in someone else's kernel `np` may be the learner's own string."""
    from engine.kernel.extension import starting_names

    return [name for name, module in starting_names().items() if namespace.get(name) is module]


def register(bridge, ip) -> None:
    training = TrainingRun(bridge, lambda: ip.user_ns)

    def hello(device: str = "auto", lang: str = "en") -> dict:
        import torch

        from engine import devices
        from engine.i18n import speak

        speak(lang)  # %help, notes and the errors of cells, in the app's language
        resolved = devices.resolve(device)  # a DeviceError goes back to the app as what it says
        return {"torch": torch.__version__, "device": resolved, "device_text": devices.status_text(resolved),
                "python": sys.version.split()[0], "modules": ready_names(ip.user_ns)}

    def device_status(device: str) -> str:
        from engine import devices

        return devices.status_text(device)

    def details(name: str):
        from engine.repl.variables import details as variable_details

        return variable_details(name, ip.user_ns)

    def tour_check(chapter: str):
        from engine import tour

        found = tour.chapter(chapter)
        if found is None:
            raise RequestError("err.request.chapter", chapter=repr(chapter))
        return tour.check(found, ip.user_ns)

    def signature(name: str) -> str | None:
        from engine.repl.completion import signature as find

        return find(name, ip.user_ns)

    def display_width(width: int) -> bool:
        """Draw %plot, and print tensors and arrays (own kernel only: a notebook's print options
        are its owner's), at the app's log width."""
        from engine.kernel import magics
        from engine.kernel.extension import own_kernel

        columns = max(MIN_PRINT_WIDTH, int(width))
        magics.COLUMNS[0] = columns  # %plot draws at the log's width
        if not own_kernel():
            return False
        import numpy as np
        import torch

        torch.set_printoptions(linewidth=columns)
        np.set_printoptions(linewidth=columns)
        return True

    def live_export(path: str) -> str:
        from engine.kernel.live import LiveError, live_function

        try:
            return live_function(ip, bridge.emit).export(path)
        except LiveError as exc:
            raise RequestError("err.request.plain", text=str(exc)) from None
        except OSError as exc:
            raise RequestError("err.request.write", path=path, error=exc.strerror or str(exc)) from None

    def grad_example(key: str) -> dict:
        return inspections.from_example(key).payload()

    bridge.handlers.update({
        "hello": hello,
        "device_status": device_status,
        "details": details,
        "signature": signature,
        "tour_check": tour_check,
        "grad_example": grad_example,
        "display_width": display_width,
        "live_export": live_export,
        "grad_check": lambda token: inspections.check(token),
        "grad_values": lambda token, index: inspections.values(token, index),
        "train_start": lambda config, tag=0: training.start(config, tag),
        "train_pause": lambda: training.pause(),
        "train_resume": lambda: training.resume(),
        "train_stop": lambda: training.stop(),
        "train_export": lambda kind, path: training.export(kind, path),
    })
