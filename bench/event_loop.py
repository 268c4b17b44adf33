"""How long torch work blocks torchtui's event loop, against a bare Textual app's own jitter.

A 5 ms interval timer records when the event loop gets to run; the longest gap between two ticks
is the longest time the UI could not respond. Phases: start-up (the kernel process starting), a
cell running a torch loop, a 10^8-element tensor shown as a value, a cell stuck in one C call
that holds the GIL (`sum(range(10**9))`), a cell printing without end, an autograd example, and
a training run with live plots. The baseline is the same timer in a bare Textual app, same run.

    python bench/event_loop.py
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time

from textual.app import App
from textual.widgets import Static

TICK = 0.005


class Ticks:
    def __init__(self) -> None:
        self.times: list[float] = []

    def tick(self) -> None:
        self.times.append(time.perf_counter())

    def worst_gap_ms(self, since: float) -> float:
        ts = [t for t in self.times if t >= since]
        return max((b - a for a, b in zip(ts, ts[1:], strict=False)), default=0.0) * 1000


class Bare(App):
    def compose(self):
        yield Static("bare")


async def bare_baseline(seconds: float = 3.0) -> float:
    ticks = Ticks()
    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_interval(TICK, ticks.tick)
        start = time.perf_counter()
        await pilot.pause(seconds)
    return ticks.worst_gap_ms(start)


async def until(pilot, predicate, timeout: float = 120.0) -> None:
    end = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > end:
            raise SystemExit("timed out waiting for the app")
        await pilot.pause(0.01)


async def show(app, mode: str):
    """Switch to a mode and return its screen once its body is mounted."""
    done = asyncio.get_running_loop().create_future()
    app.navigate(mode, done.set_result)
    return await done


def idle(app) -> bool:
    return app.kernel.ready and not app.kernel.cells and not app.kernel.unsent


async def torchtui_phases() -> dict[str, float]:
    from tui.app import make_app

    ticks = Ticks()
    app = make_app()
    phases: dict[str, float] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_interval(TICK, ticks.tick)
        start = time.perf_counter()
        await until(pilot, lambda: app.screen.ready)
        await pilot.pause(0.15)  # the editor switches its highlighting on 0.1 s after the build
        phases["start-up: building the Playground's widgets (UI work)"] = ticks.worst_gap_ms(start)
        start = time.perf_counter()
        await until(pilot, lambda: app.kernel.ready)
        await pilot.pause(0.2)
        phases["start-up: the kernel process starting, torch loading there"] = ticks.worst_gap_ms(start)

        screen = app.screen
        start = time.perf_counter()
        screen.run_source("a = torch.randn(300, 300)\nfor _ in range(300):\n    a = torch.tanh(a @ a)")
        await until(pilot, lambda: idle(app))
        phases["a cell running a 300-step torch loop"] = ticks.worst_gap_ms(start)

        start = time.perf_counter()
        screen.run_source("torch.randn(10000, 10000)")
        await until(pilot, lambda: idle(app))
        await pilot.pause(0.2)
        phases["torch.randn(10000, 10000) shown with its summary"] = ticks.worst_gap_ms(start)

        start = time.perf_counter()
        screen.run_source("sum(range(10**9))")
        await pilot.pause(3.0)
        phases["sum(range(10**9)) holding the kernel's GIL (3 s)"] = ticks.worst_gap_ms(start)
        start = time.perf_counter()
        await app.kernel.restart()  # what ctrl+c twice does: SIGINT cannot stop one C call
        await until(pilot, lambda: idle(app))
        phases["restarting the kernel out of that call"] = ticks.worst_gap_ms(start)

        start = time.perf_counter()
        screen.run_source("i = 0\nwhile True:\n    print(i)\n    i += 1")
        await pilot.pause(3.0)
        phases["while True: print(i) (3 s)"] = ticks.worst_gap_ms(start)
        await app.kernel.interrupt()
        await until(pilot, lambda: idle(app))

        await show(app, "autograd")
        start = time.perf_counter()
        app.screen.load_example("mlp")
        await until(pilot, lambda: app.screen.recording is not None and app.screen.title_text.startswith("mlp"))
        await pilot.press("g")
        await until(pilot, lambda: "max abs error" in app.screen.check_text)
        phases["autograd: build and record the mlp example, gradient check"] = ticks.worst_gap_ms(start)

        train = await show(app, "train")
        train.query_one("#f-samples").value = "100000"
        train.query_one("#f-epochs").value = "15"
        train.query_one("#f-batch_size").value = "256"
        await pilot.pause(0.1)
        start = time.perf_counter()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: train.result is not None)
        phases["training 100k samples with live plots"] = ticks.worst_gap_ms(start)
    return phases


def main() -> None:
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp()
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()
    base = asyncio.run(bare_baseline())
    phases = asyncio.run(torchtui_phases())
    print(f"bare Textual app, idle: longest event-loop gap {base:.1f} ms")
    for name, gap in phases.items():
        flag = "ok" if gap <= 50 else "OVER 50 ms"
        print(f"{name:<58} {gap:7.1f} ms  ({gap / max(base, 0.1):.1f}x bare)  {flag}")


if __name__ == "__main__":
    main()
