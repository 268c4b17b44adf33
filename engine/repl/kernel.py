"""The kernel: runs cells one at a time on one dedicated thread and reports what happens.

One thread, not a pool: grad mode and print options are per thread, so a cell that turns grad
off must find it off in the next cell. The thread has a big stack, so deep recursion through C
code raises RecursionError instead of crashing. ctrl+c raises KeyboardInterrupt in that thread
(PyThreadState_SetAsyncExc); a single long C call finishes first.
"""

from __future__ import annotations

import ast
import ctypes
import gc
import linecache
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.autograd import AutogradError
from engine.devices import cuda_memory_reserved, free_cuda_cache
from engine.repl import guards, magics
from engine.repl.complete_input import is_complete  # noqa: F401 - part of this module's API
from engine.repl.display import describe
from engine.repl.streams import NotInTorchtui, Router, clean

MAX_OUTPUT = 200_000  # characters a cell may print before the rest is cut
OUTPUT_EVENT_GAP = 0.05  # seconds between live output events of one cell
STACK_SIZE = 256 * 2**20


@dataclass(frozen=True)
class CellResult:
    """Everything one cell produced, as plain text (no live objects, so no tensors are kept)."""

    number: int
    source: str
    output: tuple[tuple[str, str], ...] = ()  # (stream, text) in the order written
    value: str | None = None
    summary: str | None = None
    error: str | None = None  # the trimmed traceback and message
    error_type: str | None = None
    hint: str | None = None
    elapsed: float = 0.0
    interrupted: bool = False
    cut_chars: int = 0
    removed_control: bool = False
    autograd: object = None  # a magics.AutogradRequest from %autograd
    variables: tuple = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    def text(self) -> str:
        """Output, value and error as one string (handy in tests and headless use)."""
        parts = ["".join(t for _, t in self.output)]
        if self.value is not None:
            parts.append(self.value)
        if self.error:
            parts.append(self.error)
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class CellStarted:
    number: int
    source: str


@dataclass(frozen=True)
class CellOutput:
    number: int
    stream: str
    text: str


@dataclass(frozen=True)
class CellDone:
    result: CellResult


@dataclass(frozen=True)
class KernelReady:
    torch_version: str
    error: str = ""


@dataclass(frozen=True)
class Restarted:
    message: str
    dropped: tuple[int, ...] = field(default=())


def fresh_namespace() -> dict:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn, optim

    return {"__name__": "__main__", "__builtins__": guards.safe_builtins(),
            "torch": torch, "np": np, "nn": nn, "optim": optim, "F": F}


HINTS = (
    ("can't allocate memory", "Out of memory: that tensor is bigger than free memory. Try a smaller shape; "
                              "the Playground and your other variables are fine."),
    ("out of memory", "Out of memory on the device: try a smaller shape. Cached GPU memory was released."),
    ("not compiled with cuda", "This torch build has no CUDA (or this machine has no GPU): use device='cpu'."),
    ("no cuda gpus are available", "No CUDA GPU is available here: use device='cpu'."),
)


def _hint(exc: BaseException) -> str | None:
    if isinstance(exc, RecursionError):
        return "Recursion too deep: a function called itself too many times. Check its stopping condition."
    text = str(exc).lower()
    for needle, hint in HINTS:
        if needle in text:
            return hint
    return None


class Kernel:
    """A persistent namespace whose cells run in order on one thread; events go to `on_event`."""

    def __init__(self, on_event: Callable[[object], None] | None = None, history=None,
                 autostart: bool = True) -> None:
        self.on_event = on_event or (lambda event: None)
        self.history = history
        self.namespace: dict = {}
        self.ready = threading.Event()
        self.load_error = ""
        self.pending: list[tuple[int, str]] = []
        self.running: int | None = None
        self.running_since = 0.0
        self._count = 0
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._waiters: dict[int, tuple[threading.Event, list]] = {}
        self._router = Router()
        self._thread: threading.Thread | None = None
        if autostart:
            self.start()

    def start(self) -> None:
        """Start the kernel thread (it imports torch first); cells submitted before wait in the queue."""
        if self._thread is not None:
            return
        old = threading.stack_size()
        try:
            threading.stack_size(STACK_SIZE)
        except (ValueError, RuntimeError):
            pass
        try:
            self._thread = threading.Thread(target=self._main, name="torchtui-kernel", daemon=True)
            self._thread.start()
        finally:
            threading.stack_size(old)

    # --- public API, any thread -----------------------------------------------------------
    def _enqueue(self, source: str, waiter: tuple | None = None) -> int:
        with self._lock:
            self._count += 1
            number = self._count
            self.pending.append((number, source))
            if waiter is not None:
                self._waiters[number] = waiter
        self._queue.put(("cell", number, source))
        return number

    def submit(self, source: str) -> int:
        """Queue a cell; it is written to history first, before it runs. Returns its number."""
        if self.history is not None:
            self.history.append(source)
        return self._enqueue(source)

    def run(self, source: str, timeout: float | None = 60) -> CellResult:
        """Run a cell and wait for its result (for scripts and tests); not written to history."""
        done, box = threading.Event(), []
        number = self._enqueue(source, (done, box))
        if not done.wait(timeout):
            self.interrupt()
            done.wait(5)
        return box[0] if box else CellResult(number, source, error="TimeoutError: the cell did not finish",
                                             error_type="TimeoutError")

    def interrupt(self) -> bool:
        """Raise KeyboardInterrupt in the running cell. Returns False if nothing was running."""
        if self.running is None or self._thread is None or self._thread.ident is None:
            return False
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread.ident),
                                                   ctypes.py_object(KeyboardInterrupt))
        return True

    def restart(self) -> None:
        """Drop queued cells, stop the running one and start over with a fresh namespace."""
        with self._lock:
            dropped = tuple(n for n, _ in self.pending if n != self.running)
            self.pending = [(n, s) for n, s in self.pending if n == self.running]
        drained = []
        while True:
            try:
                drained.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for item in drained:
            if item[0] == "cell" and item[1] in self._waiters:
                done, box = self._waiters.pop(item[1])
                box.append(CellResult(item[1], item[2], error="cancelled by restart", error_type="Cancelled"))
                done.set()
        self.interrupt()
        self._queue.put(("restart", dropped))

    def shutdown(self) -> None:
        self.interrupt()
        self._queue.put(("stop",))

    def reset_namespace(self) -> None:
        self.namespace.clear()
        self.namespace.update(fresh_namespace())
        gc.collect()

    # --- the kernel thread ----------------------------------------------------------------
    def _emit(self, event) -> None:
        try:
            self.on_event(event)
        except Exception:
            pass  # a UI that went away must not kill the kernel

    def _main(self) -> None:
        guards.register_kernel_thread(threading.get_ident())
        try:
            from engine import warmup

            warmup.load()
            import torch

            self.namespace.update(fresh_namespace())
            self._emit(KernelReady(torch.__version__))
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            self._emit(KernelReady("", self.load_error))
        self.ready.set()
        while True:
            try:
                item = self._queue.get()
                if item[0] == "stop":
                    return
                if item[0] == "restart":
                    self._do_restart(item[1])
                    continue
                _, number, source = item
                result = self._run_cell(number, source)
                with self._lock:
                    self.pending = [(n, s) for n, s in self.pending if n != number]
                    waiter = self._waiters.pop(number, None)
                if waiter:
                    waiter[1].append(result)
                    waiter[0].set()
                self._emit(CellDone(result))
            except KeyboardInterrupt:
                continue  # an interrupt that arrived just after a cell ended

    def _clear_async_interrupt(self) -> None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threading.get_ident()), None)

    def _do_restart(self, dropped) -> None:
        self._clear_async_interrupt()
        before = cuda_memory_reserved()
        self.namespace.clear()
        gc.collect()
        free_cuda_cache()
        if not self.load_error:
            self.namespace.update(fresh_namespace())
        after = cuda_memory_reserved()
        message = "kernel restarted with a fresh namespace"
        if before is not None:
            message += f"; CUDA memory reserved: {before / 2**20:.1f} MiB → {after / 2**20:.1f} MiB"
        self._emit(Restarted(message, tuple(dropped)))

    def _run_cell(self, number: int, source: str) -> CellResult:
        self._clear_async_interrupt()
        self.running, self.running_since = number, time.monotonic()
        self._emit(CellStarted(number, source))
        # Output is kept as lists of pieces, joined once: concatenating each print onto a growing
        # string would copy it again and again.
        chunks: list[tuple[str, list[str]]] = []  # (stream, pieces) in the order written
        unsent: list[str] = []  # pieces not yet sent as a live CellOutput event
        state = {"size": 0, "cut": 0, "removed": False, "last": time.monotonic()}

        def sink(stream: str, text: str) -> None:
            if state["size"] >= MAX_OUTPUT:
                state["cut"] += len(text)
                return
            room = MAX_OUTPUT - state["size"]
            if len(text) > room:
                state["cut"] += len(text) - room
                text = text[:room]
            text, removed = clean(text)
            state["removed"] |= removed
            state["size"] += len(text)
            if chunks and chunks[-1][0] == stream:
                chunks[-1][1].append(text)
            else:
                chunks.append((stream, [text]))
            unsent.append(text)
            now = time.monotonic()
            if now - state["last"] >= OUTPUT_EVENT_GAP:
                self._flush(number, unsent)
                state["last"] = now

        fields: dict = {}
        started = time.perf_counter()
        self._router.install(threading.get_ident(), sink)
        try:
            if self.load_error:
                raise RuntimeError(f"torch could not be loaded, so cells cannot run: {self.load_error}")
            body, _, last_line = source.rstrip().rpartition("\n")
            if last_line.lstrip().startswith("%"):
                # a % command may end a cell: the code above it runs first
                if body.strip():
                    self._execute(number, body)
                request = magics.run(last_line, self)
                if request is not None:
                    fields["autograd"] = request
            else:
                value = self._execute(number, source)
                if value is not None:
                    self.namespace["_"] = value
                    fields["value"], fields["summary"] = describe(value)
                    del value
        except KeyboardInterrupt:
            fields.update(interrupted=True, error="KeyboardInterrupt: the cell was stopped; your variables are kept",
                          error_type="KeyboardInterrupt")
        except SystemExit as exc:
            fields.update(error=f"SystemExit({exc.code!r}): sys.exit() does not close torchtui's Playground; "
                                "press ctrl+q to quit the app", error_type="SystemExit")
        except (magics.MagicError, NotInTorchtui, AutogradError) as exc:
            fields.update(error=str(exc), error_type=type(exc).__name__)
        except BaseException as exc:  # noqa: BLE001 - every user error becomes a message
            fields.update(error=self._format_error(exc), error_type=type(exc).__name__, hint=_hint(exc))
            if "out of memory" in str(exc).lower():
                free_cuda_cache()
            traceback.clear_frames(exc.__traceback__)
            del exc
        finally:
            elapsed = time.perf_counter() - started
            self._router.release()
            try:
                from engine.repl.variables import collect

                fields["variables"] = tuple(collect(self.namespace))
            except Exception:
                pass
            self.running = None
        self._flush(number, unsent)
        output = tuple((stream, "".join(pieces)) for stream, pieces in chunks)
        if state["cut"]:
            output += (("note", f"\n… output cut: {state['cut']:,} more characters were printed\n"),)
        return CellResult(number, source, output, elapsed=elapsed,
                          cut_chars=state["cut"], removed_control=state["removed"], **fields)

    def _flush(self, number: int, unsent: list[str]) -> None:
        if unsent:
            self._emit(CellOutput(number, "stdout", "".join(unsent)))
            unsent.clear()

    def _execute(self, number: int, source: str):
        filename = f"<cell {number}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        tree = ast.parse(source, filename, "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        if tree.body:
            exec(compile(tree, filename, "exec"), self.namespace)
        if last is not None:
            return eval(compile(last, filename, "eval"), self.namespace)
        return None

    @staticmethod
    def _format_error(exc: BaseException) -> str:
        te = traceback.TracebackException(type(exc), exc, exc.__traceback__, compact=True)
        own = [f for f in te.stack if f.filename.startswith("<cell")]
        te.stack = traceback.StackSummary.from_list(own)
        lines = list(te.format())
        if not own and lines and lines[0].startswith("Traceback"):
            lines = lines[1:]
        return "".join(lines).rstrip()
