"""A kernel started exactly as the app starts it (tui.kernel.make_kernel), driven synchronously."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from dataclasses import dataclass, field

from tui.kernel import events as ev
from tui.kernel import make_kernel
from tui.kernel.display import summary_line, text_of

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class CellRecord:
    """Everything the app was told about one cell."""

    source: str
    events: list = field(default_factory=list)

    def _of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def done(self) -> ev.CellDone | None:
        found = self._of(ev.CellDone)
        return found[0] if found else None

    @property
    def output(self) -> str:
        return "".join(e.text for e in self._of(ev.CellStream))

    @property
    def value(self) -> str | None:
        values = [e for e in self._of(ev.CellDisplay) if e.number is not None]
        return text_of(values[-1].data) if values else None

    @property
    def summary(self) -> str:
        values = [e for e in self._of(ev.CellDisplay) if e.number is not None]
        return summary_line(values[-1].data) if values else ""

    @property
    def pages(self) -> str:
        return "\n".join(ANSI.sub("", text_of(e.data)) for e in self._of(ev.CellDisplay) if e.page)

    @property
    def error(self) -> ev.CellError | None:
        found = self._of(ev.CellError)
        return found[0] if found else None

    @property
    def error_text(self) -> str:
        e = self.error
        return ANSI.sub("", "\n".join(e.traceback) or f"{e.ename}: {e.evalue}") if e else ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.done is not None and self.done.status == "ok"

    def text(self) -> str:
        return "\n".join(p for p in (self.output, self.value or "", self.pages, self.error_text) if p)


class KernelDriver:
    def __init__(self, device: str = "auto", existing=None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.events: list = []
        self.cond = threading.Condition()
        self.session = make_kernel(device, existing, self._on_event)
        self.call(self.session.start(), timeout=180)
        assert self.session.ready, self.events

    def _on_event(self, event) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def call(self, coro, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def wait_for(self, predicate, timeout: float = 60):
        """The first event (from now on) for which predicate holds, or None on timeout."""
        end = time.monotonic() + timeout
        with self.cond:
            start = len(self.events)
            while True:
                for event in self.events[start:]:
                    if predicate(event):
                        return event
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def send(self, source: str) -> str:
        async def execute():
            return self.session.execute(source)

        return self.call(execute())

    def run(self, source: str, timeout: float = 60) -> CellRecord:
        with self.cond:
            mark = len(self.events)
        cell = self.send(source)
        end = time.monotonic() + timeout
        with self.cond:
            while not any(isinstance(e, ev.CellDone) and e.cell == cell for e in self.events[mark:]):
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"cell did not finish: {source!r}")
                self.cond.wait(left)
            mine = [e for e in self.events[mark:] if getattr(e, "cell", None) == cell]
        return CellRecord(source, mine)

    def news_after(self, source: str, kind: type, timeout: float = 60):
        """Run a cell and return the first event of the kernel's of type `kind` it caused (with the
        cell's record)."""
        with self.cond:
            mark = len(self.events)
        record = self.run(source, timeout)
        return self.first_since(mark, lambda e: isinstance(e, kind), 5), record

    def first_since(self, mark: int, predicate, timeout: float):
        """The first event from index `mark` on for which predicate holds (waiting for it), or None."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [e for e in self.events[mark:] if predicate(e)]
                left = end - time.monotonic()
                if found or left <= 0:
                    return found[0] if found else None
                self.cond.wait(left)

    def until(self, check, timeout: float = 30) -> bool:
        """Wait until check() holds, looked at again as each event comes in; False on timeout."""
        end = time.monotonic() + timeout
        with self.cond:
            while not check():
                left = end - time.monotonic()
                if left <= 0:
                    return bool(check())
                self.cond.wait(left)
        return True

    def request(self, request, timeout: float | None = None):
        return self.call(self.session.request(request, timeout))

    def complete(self, code: str, pos: int | None = None) -> list[str]:
        start, _end, words = self.call(self.session.complete(code, len(code) if pos is None else pos))
        return [code[:start] + w for w in words]

    def interrupt(self) -> None:
        self.call(self.session.interrupt())

    def restart(self) -> None:
        self.call(self.session.restart(), timeout=180)

    def close(self) -> None:
        try:
            self.call(self.session.shutdown(), timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
