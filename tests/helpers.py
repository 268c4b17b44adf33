"""Shared helpers for the app tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from weakref import WeakKeyDictionary

from textual.app import App
from textual.message import Message
from textual.pilot import Pilot

_wakers: WeakKeyDictionary[App, asyncio.Event] = WeakKeyDictionary()


@asynccontextmanager
async def running(app: App, **options: Any) -> AsyncIterator[Pilot]:
    """app.run_test(**options), with every message the app handles waking wait_for."""
    woken = _wakers[app] = asyncio.Event()
    async with app.run_test(message_hook=lambda _message: woken.set(), **options) as pilot:
        yield pilot


def _waker(app: App) -> asyncio.Event:
    """The event wait_for sleeps on. An app not started by running() (a snapshot test's) is woken
    by every message sent to the app itself: the kernel's events, workers' answers, its timers."""
    woken = _wakers.get(app)
    if woken is None:
        woken = _wakers[app] = asyncio.Event()
        loop, post = asyncio.get_running_loop(), app.post_message

        def posted(message: Message) -> bool:
            loop.call_soon_threadsafe(woken.set)  # (post_message is called from threads too)
            return post(message)

        app.post_message = posted  # type: ignore[method-assign]
    return woken


async def wait_for(pilot: Pilot, predicate: Callable[[], object], timeout: float = 30.0) -> bool:
    """Let the app run until predicate() holds, checked again each time a message wakes the app
    (key presses, timers, workers' answers and the kernel's events all arrive as messages);
    False if it still does not hold after `timeout` seconds."""
    woken = _waker(pilot.app)
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        left = end - loop.time()
        if left <= 0:
            return bool(predicate())
        woken.clear()
        try:
            await asyncio.wait_for(woken.wait(), left)
        except TimeoutError:
            return bool(predicate())
        # let the handler of the message that woke us run (the hook is called before it) before
        # looking again; should it take longer, the next message brings us back
        await asyncio.sleep(0.005)
    return True


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


def widget_text(widget) -> str:
    """What a widget shows, as plain text: a Static's content, any other widget's drawn lines."""
    if hasattr(widget, "content"):
        return static_text(widget)
    return "\n".join(shown_lines(widget))


async def shows(pilot, target, text: str, timeout: float = 30.0) -> bool:
    """Wait until `target` shows `text`: target is a widget, or a selector looked up on the
    current screen each time (so a screen or widget still to come is waited for too)."""

    def showing() -> bool:
        if isinstance(target, str):
            found = pilot.app.screen.query(target)
            return bool(found) and text in widget_text(found.first())
        return text in widget_text(target)

    return await wait_for(pilot, showing, timeout)


def x_labels(plot) -> list[float]:
    """The numbers under a rendered plot's x axis."""
    lines = plot.render().plain.splitlines()
    axis = next(i for i, line in enumerate(lines) if "└" in line)
    return [float(word) for word in lines[axis + 1].split()]


async def screen_ready(pilot, timeout: float = 30.0) -> bool:
    """Wait until the current screen's body (everything below the status line) is mounted."""
    return await wait_for(pilot, lambda: getattr(pilot.app.screen, "ready", True), timeout)


async def type_cell(pilot, text: str) -> None:
    """Type a line as keys (spaces included), then Enter: the keys as a terminal sends a fast
    typist's or a paste's, one after the other with no pause between them, the same Key events
    Pilot.press sends (it waits for the app to go idle twice after every key: 40 ms a key)."""
    await press_quickly(pilot, *[{" ": "space"}.get(c, c) for c in text], "enter")


async def press_quickly(pilot, *keys: str) -> None:
    """Pilot.press's keys, sent at once; then the app is waited for until it is idle."""
    import unicodedata

    from textual import events
    from textual._wait import wait_for_idle
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    app = pilot.app
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        original = REPLACED_KEYS.get(key, key)
        try:
            char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)
    await wait_for_idle(0)
    await app._animator.wait_until_complete()
    await wait_for_idle(0)


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


def shown_lines(widget) -> list[str]:
    """The lines a widget draws, all of them (a tall Static inside a scroll view included), as text."""
    from textual.geometry import Region

    width, height = widget.outer_size
    return [strip.text.rstrip() for strip in widget.render_lines(Region(0, 0, width, height))]


CLOSING_PUNCTUATION = "。，、；：！？）」』》,;:!?)"


def badly_broken(lines: list[str], text: str) -> list[str]:
    """What is wrong with `lines` as Chinese typesetting of `text`: a line that starts with closing
    punctuation, a bullet alone on its line, a word of `text` cut in two by the line's end."""
    import re

    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    wrong = []
    for line, after in zip(lines, [*lines[1:], ""], strict=True):
        if line.strip() == "•":
            wrong.append(f"a bullet alone: {line!r}")
        head = after.lstrip()
        if head[:1] and head[0] in CLOSING_PUNCTUATION:
            wrong.append(f"starts with closing punctuation: {after!r}")
        tail = re.search(r"[A-Za-z0-9_]+$", line)
        start = re.match(r"[A-Za-z0-9_]+", head)
        if tail and start and tail.group() + start.group() in words and tail.group() not in words:
            wrong.append(f"a word cut in two: {line!r} / {after!r}")
    return wrong
