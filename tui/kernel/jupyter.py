"""The Jupyter protocol core that the app's own kernel and an attached one share, on the app's
asyncio loop.

Cells go to the kernel's main shell and run in order. Requests from the screens (engine.protocol's:
variable details, gradient checks, training control) go over the "torchtui" comm on a subshell, so
they are answered while a cell runs; so do completions. Every message the kernel sends is turned
into an event (tui.kernel.events, or the protocol's own) and handed to `on_event`.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import os
import queue
import sys
import time
from typing import TYPE_CHECKING, Any, TypeVar

from engine.protocol import Hello, Reply, Request, decode_event, decode_reply, encode_request, is_reply
from tui.i18n import language, said_text, t
from tui.kernel import events as ev
from tui.kernel.base import Cell, Kernel, KernelGone, Refused, Status
from tui.kernel.display import bounded_error

if TYPE_CHECKING:
    from jupyter_client.asynchronous.client import AsyncKernelClient

A = TypeVar("A")
COMM_TARGET = "torchtui"
READ_POLL_S = 0.1  # the longest a kernel message can wait for its reader (see _read)
OWN_REQUESTS_KEPT = 500  # ids of this app's recent non-cell messages to the kernel


class JupyterKernel(Kernel):
    """A Jupyter kernel with torchtui's extension: run cells, ask it things. How it is started,
    watched, interrupted and restarted is the subclass's."""

    def __init__(self, on_event=None, device: str = "auto") -> None:
        super().__init__(on_event)
        self.device = device
        self.kc: AsyncKernelClient | None = None
        self.kernel_session = ""  # the kernel process's Jupyter session id: a restart changes it
        self.subshell: str | None = None
        self.comm_id = ""
        self._replies: dict[str, asyncio.Future] = {}  # shell replies by msg_id
        self._own_requests: dict[str, None] = {}  # msg ids of requests and completions sent, oldest first
        self._requests: dict[int, asyncio.Future] = {}  # comm replies by request id
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task] = []

    @staticmethod
    async def _import_client() -> None:
        # jupyter_client (and zmq under it) takes ~0.2 s to import: in a thread, the event loop
        # keeps drawing and taking keys meanwhile.
        await asyncio.to_thread(importlib.import_module, "jupyter_client")

    # --- connecting ------------------------------------------------------------------------
    def _new_client(self) -> AsyncKernelClient:
        raise NotImplementedError

    async def _kernel_info(self, kc) -> dict | None:
        """The kernel_info reply that opens a connection (None: wait for it on the shell)."""
        return None

    async def _before_comm(self) -> bool:
        """Called once the channels are read, before the comm opens; False: open none."""
        return True

    async def _connect(self) -> None:
        kc = self._new_client()
        kc.start_channels()
        self.kc = kc
        for task in self._tasks:
            if task.get_name().startswith("torchtui-read"):
                task.cancel()
        self._tasks = [t for t in self._tasks if not t.get_name().startswith("torchtui-read")]
        reply = await self._kernel_info(kc)
        if reply is None:
            await kc.wait_for_ready(timeout=120)
            reply = await self._wait_kernel_info(kc, kc.kernel_info())
        self.subshell = None
        self.kernel_session = reply.get("header", {}).get("session", "")
        if "kernel subshells" in reply.get("content", {}).get("supported_features", []):
            answer = await self._control("create_subshell_request", {})
            self.subshell = answer["content"].get("subshell_id")
        for name, channel in (("iopub", kc.iopub_channel), ("shell", kc.shell_channel),
                              ("stdin", kc.stdin_channel)):
            self._tasks.append(asyncio.create_task(self._read(channel, name), name=f"torchtui-read-{name}"))
        if not await self._before_comm():
            return
        self.comm_id = f"torchtui-{os.getpid()}-{next(self._ids)}"
        # Opened on the subshell, like the requests after it: the same thread takes them in order
        # (opened on the main shell, the first request could overtake the open and be dropped).
        self._send_shell("comm_open", {"comm_id": self.comm_id, "target_name": COMM_TARGET, "data": {}})

    async def _control(self, msg_type: str, content: dict, timeout: float = 10.0) -> dict:
        """A request on the control channel, and its reply (older replies there are skipped)."""
        kc = self.kc
        assert kc is not None  # (connected before any request)
        msg = kc.session.msg(msg_type, content)
        kc.control_channel.send(msg)
        end = time.monotonic() + timeout
        while True:
            answer = await kc.control_channel.get_msg(timeout=max(0.1, end - time.monotonic()))
            if answer["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                return answer

    @staticmethod
    async def _wait_kernel_info(kc, msg_id: str, timeout: float = 60.0) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            reply = await kc.shell_channel.get_msg(timeout=max(0.1, end - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply
        raise TimeoutError(t("kernel.no_answer"))

    async def _hello(self, restarted: bool) -> None:
        if self.plain:
            self._status = Status.IDLE
            self._emit(ev.KernelReady(restarted=restarted, plain=self.plain))
            self._send_unsent()
            return
        try:
            info = await self.request(Hello(self.device, language()))
        except Exception as exc:  # noqa: BLE001
            self._status = Status.IDLE
            self._emit(ev.KernelReady(error=said_text(exc), restarted=restarted))
            self._send_unsent()
            return
        self._status = Status.IDLE
        self._emit(ev.KernelReady(info.torch, info.device, info.device_text, restarted=restarted,
                                  waiting=len(self.unsent), modules=info.modules))
        self._send_unsent()

    def _stop_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()

    # --- cells ---------------------------------------------------------------------------------
    def _send_cell(self, cell: Cell) -> None:
        assert self.kc is not None  # (cells are sent once connected; before, they wait in unsent)
        msg_id = self.kc.execute(cell.source, store_history=True, allow_stdin=True, stop_on_error=False)
        cell.sent = time.monotonic()
        self.cells[msg_id] = cell

    def answer(self, value: str) -> None:
        if self.kc is not None and not self.dead:
            self.kc.input(value)

    # --- requests --------------------------------------------------------------------------
    def _send_shell(self, msg_type: str, content: dict) -> str:
        if self.kc is None or self.dead:
            raise KernelGone(t("kernel.not_running"))
        msg = self.kc.session.msg(msg_type, content)
        if self.subshell:
            msg["header"]["subshell_id"] = self.subshell
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        self._own_requests[msg_id] = None
        while len(self._own_requests) > OWN_REQUESTS_KEPT:
            self._own_requests.pop(next(iter(self._own_requests)))
        return msg_id

    async def request(self, request: Request[A], timeout: float | None = None) -> A:
        timeout = request.timeout if timeout is None else timeout
        if not isinstance(request, Hello):  # (asked while the kernel is being made ready)
            await self.wait_ready(timeout)
        if self.plain:
            raise KernelGone(self.plain)
        rid = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._requests[rid] = future
        try:
            self._send_shell("comm_msg", {"comm_id": self.comm_id, "data": encode_request(request, rid)})
            reply: Reply = await asyncio.wait_for(future, timeout)
        finally:
            self._requests.pop(rid, None)
        if not reply.ok:
            raise Refused(reply)
        return reply.answer

    async def _shell_request(self, msg_type: str, content: dict, timeout: float) -> Any:
        msg_id = self._send_shell(msg_type, content)
        future = asyncio.get_running_loop().create_future()
        self._replies[msg_id] = future
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._replies.pop(msg_id, None)

    async def complete(self, code: str, cursor_pos: int, timeout: float = 2.0) -> tuple[int, int, list[str]]:
        reply = await self._shell_request("complete_request", {"code": code, "cursor_pos": cursor_pos}, timeout)
        content = reply["content"]
        if content.get("status") != "ok":
            return cursor_pos, cursor_pos, []
        # a kernel that also asks jedi (not ours) can name a completion twice
        return content["cursor_start"], content["cursor_end"], list(dict.fromkeys(content.get("matches", [])))

    def _fail_requests(self, error: Exception) -> None:
        for future in [*self._replies.values(), *self._requests.values()]:
            if not future.done():
                future.set_exception(error)
        self._replies.clear()
        self._requests.clear()

    # --- reading --------------------------------------------------------------------------------
    async def _read(self, channel, name: str) -> None:
        while True:
            try:
                # With a timeout: a message whose wake-up was taken by a send on the same socket
                # (zmq's edge-triggered descriptor) is still read on the next round. Without it,
                # the shell reader stopped for good after some dozens of quick cells.
                msg = await channel.get_msg(timeout=READ_POLL_S)
            except asyncio.CancelledError:
                raise
            except queue.Empty:
                continue
            except Exception:  # a socket closed by a restart: the new reader takes over
                await asyncio.sleep(0.05)
                continue
            try:
                {"iopub": self._on_iopub, "shell": self._on_shell, "stdin": self._on_stdin}[name](msg)
            except Exception as exc:  # noqa: BLE001 - one odd message must not stop the reader
                print(f"torchtui: could not handle a kernel message: {exc!r}", file=sys.stderr)

    def _on_shell(self, msg) -> None:
        parent = msg["parent_header"].get("msg_id", "")
        future = self._replies.get(parent)
        if future is not None and not future.done():
            future.set_result(msg)
            return
        if msg["msg_type"] == "execute_reply" and parent in self.cells:
            self.cells[parent].reply = msg["content"]
            self._maybe_done(parent)

    def _on_stdin(self, msg) -> None:
        parent = msg["parent_header"].get("msg_id", "")
        if msg["msg_type"] == "input_request" and parent in self.cells:
            content = msg["content"]
            self._emit(ev.InputRequested(self.cells[parent].id, str(content.get("prompt", "")), bool(content.get("password"))))

    def _maybe_done(self, msg_id: str) -> None:
        """A cell is done when its reply (shell) and the idle status after it (iopub) have both come:
        the two sockets do not keep order between them, and output may follow the reply."""
        cell = self.cells[msg_id]
        if cell.reply is None or not cell.idle:
            return
        self._answered(msg_id)
        content = cell.reply
        for payload in content.get("payload", []):
            if payload.get("source") == "page":
                self._emit(ev.CellDisplay(cell.id, payload.get("data", {}), page=True))
            elif payload.get("source") == "set_next_input":
                self._emit(ev.NextInput(str(payload.get("text", ""))))
        started = cell.started or cell.sent
        self._emit(ev.CellDone(cell.id, content.get("execution_count", cell.number),
                               content.get("status", "ok"), time.monotonic() - started, cell.source))

    def _restarted_by_owner(self, msg) -> bool:
        """True when this message shows the kernel was restarted behind the app's back (attaching
        again follows)."""
        return False

    def _on_iopub(self, msg) -> None:
        if self._restarted_by_owner(msg):
            return
        kind, content = msg["msg_type"], msg["content"]
        parent = msg["parent_header"].get("msg_id", "")
        if kind in ("comm_msg", "comm_close"):
            if content.get("comm_id") == self.comm_id:
                self._on_comm(content.get("data") or {})
            return
        if parent not in self.cells and kind == "stream" and parent in self._own_requests:
            # Output a cell's child process wrote to its fd 1 or 2 (os.system, a C library): the
            # kernel's fd watcher sends it with the parent of the last message any of its threads
            # took, which is this app's request on its subshell when one came in meanwhile. It is
            # the running cell's (so is a thread's print: threads start without the cell's context
            # and write under the kernel's latest parent), or the last cell's when none runs.
            parent = self._cell_for_stray_output()
        if parent in self._finished and kind in ("stream", "display_data"):
            # from a thread the cell started, after it was answered: still that cell's (Jupyter
            # shows it under the cell)
            done = self._finished[parent]
            if kind == "stream":
                self._emit(ev.CellStream(done.id, content.get("name", "stdout"), content.get("text", ""), late=True))
            else:
                self._emit(ev.CellDisplay(done.id, content.get("data", {}), late=True))
            return
        if parent not in self.cells:
            return  # requests, completions and other clients' traffic
        cell = self.cells[parent]
        if kind == "status":
            if content.get("execution_state") == "idle":
                cell.idle = True
                self._maybe_done(parent)
        elif kind == "execute_input":
            cell.number, cell.started = content.get("execution_count"), time.monotonic()
            self._emit(ev.CellStarted(cell.id, cell.number or 0, cell.source))
        elif kind == "stream":
            self._emit(ev.CellStream(cell.id, content.get("name", "stdout"), content.get("text", "")))
        elif kind == "execute_result":
            self._emit(ev.CellDisplay(cell.id, content.get("data", {}), number=content.get("execution_count")))
        elif kind in ("display_data", "update_display_data"):
            self._emit(ev.CellDisplay(cell.id, content.get("data", {})))
        elif kind == "error":
            # (our kernel bounds its tracebacks; someone else's may send megabytes of one)
            traceback, evalue = bounded_error(tuple(content.get("traceback", [])), str(content.get("evalue", "")))
            self._emit(ev.CellError(cell.id, content.get("ename", ""), evalue, traceback))

    def _cell_for_stray_output(self) -> str:
        """The running cell's msg id; with none running, the last one answered (a thread that cell
        started prints on), or '' before any."""
        running = [msg_id for msg_id, cell in self.cells.items() if cell.started is not None]
        if running:
            return running[-1]
        return next(reversed(self._finished), "")

    def _on_comm(self, data: dict) -> None:
        if is_reply(data):
            reply = decode_reply(data)
            future = self._requests.get(reply.rid)
            if future is not None and not future.done():
                future.set_result(reply)
            return
        if data:  # (a comm_close carries nothing)
            self._emit(decode_event(data))
