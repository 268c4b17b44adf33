"""Shared helpers for the app tests."""

from __future__ import annotations

import asyncio
import time


async def wait_for(pilot, predicate, timeout: float = 30.0, step: float = 0.05) -> bool:
    """Let the app run until predicate() is true; False on timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        await pilot.pause(step)
    return predicate()


def log_text(app) -> str:
    """All lines of the Playground's output log as plain text."""
    from tui.widgets.output import OutputLog

    log = app.screen.query_one(OutputLog)
    return "\n".join(strip.text for strip in log.lines)


def static_text(widget) -> str:
    """The plain text a Static widget shows."""
    content = widget.content
    if isinstance(content, str):
        return content
    plain = getattr(content, "plain", None)
    if plain is not None:
        return plain
    from rich.console import Console

    console = Console(width=200, record=True, color_system=None)
    console.print(content)
    return console.export_text()


def run(coro):
    return asyncio.run(coro)


async def screen_ready(pilot, timeout: float = 30.0) -> bool:
    """Wait until the current screen's body (everything below the status line) is mounted."""
    return await wait_for(pilot, lambda: getattr(pilot.app.screen, "ready", True), timeout)


async def type_cell(pilot, text: str) -> None:
    """Type a line as keys (spaces included), then Enter."""
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])
    await pilot.press("enter")


async def start_long_run(pilot):
    """On the Training screen: a run long enough to still be going when the test looks at it."""
    app, screen = pilot.app, pilot.app.screen
    assert await wait_for(pilot, lambda: screen.ready and app.kernel.ready, 60)
    screen.query_one("#f-samples").value = "20000"
    screen.query_one("#f-epochs").value = "100000"
    await pilot.pause(0.05)
    await pilot.press("ctrl+r")
    assert await wait_for(pilot, lambda: screen.latest is not None, 60)
    return screen
