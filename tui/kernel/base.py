"""What the app needs of a kernel, whichever kernel it is: one interface, one status value, and the
queue of cells that every kernel keeps the same way.

Three kernels implement it: the app's own (tui.kernel.own), someone else's it attached to
(tui.kernel.attached), both over one Jupyter protocol core (tui.kernel.jupyter), and a kernel in
this process for tests (tui.kernel.fake). Screens read `status`, `running`, `queued`; they send
cells with `execute` and ask typed requests (engine.protocol) with `request`. What happens comes
back through `on_event`: the events of tui.kernel.events and the kernel's own (engine.protocol's).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TypeVar

from engine.protocol import Reply, Request
from tui.i18n import t
from tui.kernel import events as ev

A = TypeVar("A")
MAX_IN_FLIGHT = 100  # cells sent to the kernel and not yet answered; more wait in `unsent`
FINISHED_KEPT = 200  # answered cells whose late output (from a thread they started) is still shown
READY_WAIT_S = 30.0  # the longest a request waits for the kernel to be ready


class Status(Enum):
    """Where a kernel is. Cells typed while it cannot take them wait, in order, for it to be ready."""

    STARTING = "starting"  # being started or attached to
    IDLE = "idle"  # ready, no cell running or waiting
    BUSY = "busy"  # ready, running cells
    RESTARTING = "restarting"
    DEAD = "dead"  # the app's own kernel ended (F9 starts a new one)
    AWAY = "away"  # an attached kernel that stopped beating (its owner may bring it back)


class Refused(RuntimeError):
    """A request the kernel answered with an error; `said` is what it said (the app words it)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.error or t("kernel.no_reason"))
        self.said = reply.said


class KernelGone(RuntimeError):
    """The kernel is not there to answer (starting, restarting, dead)."""


@dataclass
class Cell:
    source: str
    sent: float
    # The kernel's own name for the cell, unique across kernels: Jupyter's msg ids repeat after a
    # restart (each new client counts from 1 again).
    id: str = ""
    number: int | None = None
    started: float | None = None
    reply: dict | None = None  # the execute_reply's content, once it came
    idle: bool = False  # iopub said the kernel is idle after this cell: all its output is in


class Kernel(ABC):
    """A kernel as the app sees it. Subclasses send cells and requests; the queue is kept here."""

    attached = False  # someone else's kernel: quitting leaves it running
    existing: Path | None = None  # the connection file of an attached kernel
    plain = ""  # an attached kernel that could not load the engine: why (cells still run, requests fail)

    def __init__(self, on_event: Callable[[object], None] | None = None) -> None:
        self.on_event = on_event or (lambda _event: None)
        self._status = Status.STARTING  # never BUSY: `status` derives that from the cells
        self.cells: dict[str, Cell] = {}  # sent and not yet answered, by the kernel's key, in order
        self.unsent: list[Cell] = []  # cells typed while the kernel could not take them, in order
        self._finished: dict[str, Cell] = {}  # answered cells of this kernel by key, oldest first
        self._cell_ids = itertools.count(1)
        self._closing = False

    def listen(self, on_event: Callable[[object], None]) -> None:
        """Send this kernel's events to `on_event` (the app, once it is built)."""
        self.on_event = on_event

    def _emit(self, event) -> None:
        # Once shutting down, nobody is listening: an app tearing down its screens must not get
        # a start that failed because it was stopped.
        if not self._closing:
            self.on_event(event)

    # --- state the screens read ------------------------------------------------------------
    def process_id(self) -> int | None:
        """The kernel's process id where this app started it (the GPU panel marks its process);
        None for someone else's kernel, whose process may be on another machine."""
        return None

    @property
    def status(self) -> Status:
        if self._status is Status.IDLE and (self.cells or self.unsent):
            return Status.BUSY
        return self._status

    @property
    def ready(self) -> bool:
        """Cells and requests go to the kernel now."""
        return self._status is Status.IDLE

    @property
    def dead(self) -> bool:
        return self._status in (Status.DEAD, Status.AWAY)

    @property
    def existing_name(self) -> str:
        """The attached kernel's connection file name, as messages name it ("" when it is ours)."""
        return self.existing.name if self.existing is not None else ""

    @property
    def running(self) -> Cell | None:
        for cell in self.cells.values():
            if cell.started is not None:
                return cell
        return None

    @property
    def queued(self) -> list[Cell]:
        return [c for c in self.cells.values() if c.started is None] + self.unsent

    @property
    def next_to_run(self) -> Cell | None:
        """The first cell sent to the kernel when none has started: the kernel is on it, or about
        to be (a C call holding the GIL from its first instruction keeps even the kernel's
        "started" message from going out)."""
        if self.running is not None or not self.ready:
            return None
        return next((c for c in self.cells.values() if c.started is None), None)

    # --- cells ---------------------------------------------------------------------------------
    def execute(self, source: str) -> str:
        """Run a cell after those sent before; returns its id (the `cell` of its events). Until the
        kernel is ready (starting, restarting, or dead until F9 brings a new one) cells wait here,
        in order."""
        cell = Cell(source, time.monotonic(), id=f"cell-{next(self._cell_ids)}")
        if not self.ready or self.unsent or len(self.cells) >= MAX_IN_FLIGHT:
            self.unsent.append(cell)
        else:
            self._send_cell(cell)
        return cell.id

    def _send_unsent(self) -> None:
        """Send waiting cells, in order, while the kernel is ready and has room: a burst of
        thousands of cells (a script feeding the Playground) stays out of the kernel's socket
        queues (zmq's hold 1,000 messages each by default) and waits here, counted as queued."""
        free = MAX_IN_FLIGHT - len(self.cells)
        if not self.ready or free <= 0 or not self.unsent:
            return
        waiting, self.unsent[:free] = self.unsent[:free], []
        for cell in waiting:
            self._send_cell(cell)

    def _answered(self, key: str) -> Cell:
        """A cell the kernel has finished with: kept a while for its late output, and a place is
        free for a waiting cell."""
        cell = self.cells.pop(key)
        self._finished[key] = cell
        while len(self._finished) > FINISHED_KEPT:
            self._finished.pop(next(iter(self._finished)))
        self._send_unsent()
        return cell

    def _begin_restart(self) -> None:
        """Whichever kernel restarts: restarting, said, and the cell it ran lost (the others wait)."""
        self._status = Status.RESTARTING
        self._fail_pending("restarted", lambda waiting: ev.KernelRestarting(waiting=waiting))

    def _fail_pending(self, status: str, news: Callable[[int], object]) -> None:
        """The kernel is gone (died, or restarted): the cell it was running is lost; the cells
        behind it, which never started, wait for the next kernel, in their order. `news(waiting)`
        is the event that says so."""
        now = time.monotonic()
        pending = list(self.cells.values())
        # The first cell sent is the one the kernel was on, or about to be (its "started" may not
        # have gone out); a cell the kernel never reached is not lost.
        lost = [c for c in pending if c.started is not None] or pending[:1]
        self.unsent[:0] = [c for c in pending if c not in lost]
        said = news(len(self.unsent))
        if status == "restarted":  # "restarting", then the cell it stopped
            self._emit(said)
        for cell in lost:
            self._emit(ev.CellDone(cell.id, cell.number, status, now - (cell.started or now), cell.source))
        if status != "restarted":  # the cell that was lost, then how the kernel died
            self._emit(said)
        self.cells.clear()
        self._finished.clear()  # the next kernel's keys may start again from 1
        self._fail_requests(KernelGone(t(f"kernel.{status}")))

    async def wait_ready(self, timeout: float = READY_WAIT_S) -> None:
        """Until the kernel can take requests (it may still be starting); KernelGone if it is dead."""
        end = time.monotonic() + timeout
        while not self.ready:
            if self.dead:
                raise KernelGone(t("kernel.not_running_f9"))
            if time.monotonic() > end:
                raise KernelGone(t("kernel.starting"))
            await asyncio.sleep(0.05)

    # --- what each kernel does its own way ---------------------------------------------------
    @abstractmethod
    async def start(self) -> None:
        """Start the kernel (or attach to it) and wait until it can run cells; failures become a
        KernelReady error."""

    @abstractmethod
    async def shutdown(self) -> None:
        """Stop the kernel (an attached one: leave it as it was found); safe to call twice."""

    @abstractmethod
    def kill_now(self) -> None:
        """Last resort at exit when the loop is gone: kill what this app started."""

    @abstractmethod
    def _send_cell(self, cell: Cell) -> None:
        """Hand a cell to the kernel and put it in `cells` under the kernel's key for it."""

    @abstractmethod
    def _fail_requests(self, error: Exception) -> None:
        """Requests waiting for an answer get `error` instead (the kernel that would answer is gone)."""

    @abstractmethod
    def answer(self, value: str) -> None:
        """Reply to the cell's input request ("\\x04" is end of file: EOFError in the cell)."""

    @abstractmethod
    async def interrupt(self) -> None: ...

    @abstractmethod
    async def restart(self) -> None:
        """A fresh namespace: for the app's own kernel, a fresh process."""

    @abstractmethod
    async def request(self, request: Request[A], timeout: float | None = None) -> A:
        """Ask the extension and return its answer; Refused with the kernel's message, KernelGone
        without a kernel, TimeoutError past `timeout` (by default the request type's)."""

    @abstractmethod
    async def complete(self, code: str, cursor_pos: int, timeout: float = 2.0) -> tuple[int, int, list[str]]:
        """IPython's completions at cursor_pos: (start, end, matches)."""
