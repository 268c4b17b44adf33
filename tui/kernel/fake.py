"""A kernel in the app's own process, for tests of the screens: it runs cells as plain Python (no
torch: the app's process never imports it), answers requests from a table the test fills, sends
whatever kernel events the test gives it, and can be held, interrupted, restarted or killed.

    kernel = FakeKernel()
    kernel.answers[DescribeVariable] = lambda request: None
    app = make_app(kernel=kernel)
    ... kernel.send(TrainProgress(run, progress)); kernel.die("killed")

A cell's input() is not run here: a test sends InputRequested itself and reads `sent_input`, or
scripts the cell (`scripts`): a coroutine that runs in its place and can ask for input, print at a
chosen moment, run on until interrupted, or ignore ctrl+c, as a cell in a kernel process would:

    async def asks(run: CellRun):
        kernel.namespace["name"] = await run.input("name? ")
    kernel.scripts["name = input('name? ')"] = asks

Everything reaches the app as it would from a real kernel: through `on_event`, on the event loop,
in order, one event per loop turn where a kernel's would come as separate messages.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import rlcompleter
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from engine.protocol import Event, Reply, Request, op_name
from tui.kernel import events as ev
from tui.kernel.base import Cell, Kernel, KernelGone, Refused, Status

A = TypeVar("A")
FAKE_TORCH = "0.0-fake"


class CellRun:
    """A scripted cell while it runs (FakeKernel.scripts): what a cell in a kernel can do."""

    def __init__(self, kernel: FakeKernel, cell: Cell) -> None:
        self.kernel, self.cell = kernel, cell
        self.ignores_interrupts = False

    def print(self, text: str, name: str = "stdout") -> None:
        """Output now, while the cell runs on."""
        self.kernel._emit(ev.CellStream(self.cell.id, name, text))

    async def input(self, prompt: str = "", password: bool = False) -> str:
        """input() (getpass with `password`, a debugger's prompt): the app is asked and the cell
        waits for its answer; end of file ("\\x04", ctrl+d) raises EOFError, as in the kernel."""
        answer = self.kernel._input = asyncio.get_running_loop().create_future()
        self.kernel._emit(ev.InputRequested(self.cell.id, prompt, password))
        try:
            value = await answer
        finally:
            self.kernel._input = None
        if value == "\x04":
            raise EOFError("EOF when reading a line")
        return value

    async def wait(self) -> None:
        """Run on (a sleep, a long loop) until interrupted, restarted or killed."""
        await asyncio.get_running_loop().create_future()

    def ignore_interrupts(self) -> None:
        """From now on ctrl+c does not reach this cell (C code that ignores SIGINT): only a restart
        stops it."""
        self.ignores_interrupts = True


class FakeKernel(Kernel):
    """Runs cells here, in order; `answers` maps a request type to a function of the request."""

    def __init__(self, on_event: Callable[[object], None] | None = None, *, device_text: str = "cpu",
                 start_error: str = "", torch_version: str = FAKE_TORCH,
                 display: Callable[[Any], dict] | None = None) -> None:
        super().__init__(on_event)
        self.torch_version = torch_version  # what the status line says
        # a cell's value as a mime bundle (default: its repr as text/plain); a test can pass one that
        # adds the summary line as the kernel's extension does (tests/engine_in_process.py)
        self.display = display or (lambda value: {"text/plain": repr(value)})
        self.namespace: dict[str, Any] = {}
        self.answers: dict[type, Callable[[Any], Any]] = {}
        self.asked: list[Request[Any]] = []  # every request, in the order asked
        self.sent_input: list[str] = []  # what the app answered to input requests
        self.interrupts = 0
        self.pid: int | None = None  # what process_id() says (a test sets it: the GPU panel marks it)
        self.restarts = 0
        self.device_text, self.start_error = device_text, start_error
        self._number = 0
        self._held = asyncio.Event()
        self._held.set()
        self._runner: asyncio.Task | None = None
        self._queue: asyncio.Queue[Cell] | None = None
        self.shut_down = False
        self._initial: dict[str, Any] = {}
        # a cell whose source is a key runs this in place of Python: what it returns is the cell's
        # value (Out[n]), what it raises the cell's error
        self.scripts: dict[str, Callable[[CellRun], Awaitable[Any]]] = {}
        # called with each cell before and after it runs (after an error too), as IPython's
        # pre_run_cell and post_run_cell hooks are: the kernel's extension sends Variables after
        # each cell, and numbers live() runs before it (tests/engine_in_process.py)
        self.pre_run_cell: list[Callable[[Cell], object]] = []
        self.post_run_cell: list[Callable[[Cell], object]] = []
        self._scripted: CellRun | None = None  # the scripted cell running now
        self._input: asyncio.Future[str] | None = None  # its input() waiting for the app's answer

    # --- what a test does --------------------------------------------------------------------
    def hold(self) -> None:
        """Cells sent from now on start and then wait (as a long cell would) until release()."""
        self._held.clear()

    def release(self) -> None:
        self._held.set()

    def send(self, event: Event | object) -> None:
        """The kernel has news (an engine.protocol event, or any tui.kernel.events one)."""
        self._emit(event)

    def die(self, cause: str = "the kernel process was killed") -> None:
        """The kernel process ends on its own: the running cell is lost, the others wait."""
        self._stop_runner()
        self._status = Status.DEAD
        self._fail_pending("lost", lambda waiting: ev.KernelDied(cause, waiting))

    # --- the interface -------------------------------------------------------------------------
    async def start(self) -> None:
        self._initial = dict(self.namespace)  # what a restart brings back (a test's starting names)
        await asyncio.sleep(0)
        if self.start_error:
            self._status = Status.IDLE
            self._emit(ev.KernelReady(error=self.start_error))
            return
        self._ready(restarted=False)

    def _ready(self, restarted: bool) -> None:
        self._queue = asyncio.Queue()
        self._runner = asyncio.get_running_loop().create_task(self._run_cells(self._queue))
        self._status = Status.IDLE
        self._emit(ev.KernelReady(self.torch_version, "cpu", self.device_text, restarted=restarted,
                                  waiting=len(self.unsent)))
        self._send_unsent()

    async def shutdown(self) -> None:
        self._closing = True
        self.shut_down = True
        self._stop_runner()

    def kill_now(self) -> None:
        self._stop_runner()

    def _fail_requests(self, error: Exception) -> None:
        """(every request of the fake's is answered at once: none waits)"""

    def _stop_runner(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            self._runner = None

    def _send_cell(self, cell: Cell) -> None:
        assert self._queue is not None  # (sent once ready)
        cell.sent = time.monotonic()
        self.cells[cell.id] = cell
        self._queue.put_nowait(cell)

    def answer(self, value: str) -> None:
        self.sent_input.append(value)
        if self._input is not None and not self._input.done():
            self._input.set_result(value)

    async def interrupt(self) -> None:
        self.interrupts += 1
        if self._scripted is not None and self._scripted.ignores_interrupts:
            return
        if self._runner is not None and self.running is not None:
            self._runner.cancel()  # the cell ends with KeyboardInterrupt (see _run_cells)

    async def restart(self) -> None:
        if self._status is Status.RESTARTING:
            return
        self.restarts += 1
        self._stop_runner()
        self._begin_restart()
        await asyncio.sleep(0)
        self.namespace.clear()
        self.namespace.update(self._initial)
        self._number = 0
        self._ready(restarted=True)

    def process_id(self) -> int | None:
        return self.pid

    async def request(self, request: Request[A], timeout: float | None = None) -> A:
        await self.wait_ready(request.timeout if timeout is None else timeout)
        self.asked.append(request)
        answer = self.answers.get(type(request))
        if answer is None:
            raise Refused(Reply(0, False, error=f"the fake kernel has no answer for {op_name(request)}"))
        result = answer(request)
        if asyncio.iscoroutine(result):
            result = await result
        return result

    async def complete(self, code: str, cursor_pos: int, timeout: float = 2.0) -> tuple[int, int, list[str]]:
        if self.dead:
            raise KernelGone("no kernel")
        before = code[:cursor_pos]
        start = len(before)
        while start > 0 and (before[start - 1].isalnum() or before[start - 1] in "_."):
            start -= 1
        word = before[start:]
        completer = rlcompleter.Completer(self.namespace)
        matches = []
        for state in range(100):
            match = completer.complete(word, state)
            if match is None:
                break
            matches.append(match.rstrip("("))
        return start, cursor_pos, list(dict.fromkeys(matches))

    # --- running cells -------------------------------------------------------------------------
    async def _run_cells(self, queue: asyncio.Queue[Cell]) -> None:
        while True:
            cell = await queue.get()
            if cell.id not in self.cells:
                continue  # (failed over to the next kernel meanwhile)
            self._number += 1
            cell.number, cell.started = self._number, time.monotonic()
            self._emit(ev.CellStarted(cell.id, cell.number, cell.source))
            await asyncio.sleep(0)
            try:
                await self._held.wait()
                for hook in self.pre_run_cell:
                    hook(cell)
                status = await self._run(cell)
            except asyncio.CancelledError:
                self._scripted = None
                if self._status is not Status.IDLE or self._closing:
                    raise  # restarted, dead or shut down: the kernel's own event says what happened
                self._emit(ev.CellError(cell.id, "KeyboardInterrupt", "", ("KeyboardInterrupt",)))
                self._post_run(cell)
                self._done(cell, "error")
                self._runner = asyncio.get_running_loop().create_task(self._run_cells(queue))
                return
            self._post_run(cell)
            self._done(cell, status)

    def _post_run(self, cell: Cell) -> None:
        for hook in self.post_run_cell:
            hook(cell)

    def _done(self, cell: Cell, status: str) -> None:
        self._answered(cell.id)
        self._emit(ev.CellDone(cell.id, cell.number, status, time.monotonic() - (cell.started or cell.sent),
                               cell.source))

    async def _run(self, cell: Cell) -> str:
        """Run the cell as IPython would: all statements, then the value of a last expression."""
        script = self.scripts.get(cell.source)
        if script is not None:
            return await self._run_script(cell, script)
        out = io.StringIO()
        try:
            tree = ast.parse(cell.source, "<cell>", "exec")
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            assert last is None or isinstance(last, ast.Expr)
            with contextlib.redirect_stdout(out):
                exec(compile(tree, "<cell>", "exec"), self.namespace)  # noqa: S102 - a test's own cell
                value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), self.namespace) if last else None
        except Exception as exc:  # noqa: BLE001 - the cell's error, shown as the kernel would
            self._flush(cell, out)
            lines = traceback.format_exception_only(type(exc), exc)
            self._emit(ev.CellError(cell.id, type(exc).__name__, str(exc), tuple(line.rstrip("\n") for line in lines)))
            return "error"
        self._flush(cell, out)
        if value is not None:
            self._emit(ev.CellDisplay(cell.id, self.display(value), number=cell.number))
        return "ok"

    async def _run_script(self, cell: Cell, script: Callable[[CellRun], Awaitable[Any]]) -> str:
        self._scripted = CellRun(self, cell)
        try:
            value = await script(self._scripted)
        except Exception as exc:  # noqa: BLE001 - the cell's error, shown as the kernel would
            lines = traceback.format_exception_only(type(exc), exc)
            self._emit(ev.CellError(cell.id, type(exc).__name__, str(exc), tuple(line.rstrip("\n") for line in lines)))
            return "error"
        finally:
            self._scripted = None
        if value is not None:
            self._emit(ev.CellDisplay(cell.id, self.display(value), number=cell.number))
        return "ok"

    def _flush(self, cell: Cell, out: io.StringIO) -> None:
        if out.getvalue():
            self._emit(ev.CellStream(cell.id, "stdout", out.getvalue()))
