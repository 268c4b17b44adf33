"""One kernel process and the conversation with it, on the app's asyncio loop.

Cells go to the kernel's main shell and run in order. Requests from the screens (completion,
variable details, gradient checks, training control) go over the "torchtui" comm on a subshell,
so they are answered while a cell runs. Every message the kernel sends is turned into an event
of tui.kernel.events and handed to `on_event`.

The kernel is either the app's own (started here, shut down on quit) or someone else's, attached
to through its connection file: then quitting leaves it running, restart asks the kernel itself
(its owner, a notebook server say, starts it again), interrupt is a message, and its heartbeat
says whether it is still there.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import itertools
import os
import queue
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from engine.protocol import Hello, Reply, Request, decode_event, decode_reply, encode_request, is_reply
from tui.i18n import t
from tui.kernel import events as ev
from tui.kernel.display import bounded_error
from tui.kernel.launch import connection_paths, kernel_env, kernel_spec_manager, open_log

if TYPE_CHECKING:
    from jupyter_client.asynchronous.client import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager

A = TypeVar("A")
COMM_TARGET = "torchtui"
DEATH_POLL_S = 0.5
REQUEST_TIMEOUT_S = 30.0  # the longest a request waits for the kernel to be ready
SHUTDOWN_WAIT_S = 3.0
READ_POLL_S = 0.1  # the longest a kernel message can wait for its reader (see _read)
MAX_IN_FLIGHT = 100  # cells sent to the kernel and not yet answered; more wait in `unsent`
FINISHED_KEPT = 200  # answered cells whose late output (from a thread they started) is still shown
OWN_REQUESTS_KEPT = 500  # ids of this app's recent non-cell messages to the kernel
HEARTBEAT_MISSES = 3  # death polls without a heartbeat before an attached kernel counts as gone
ATTACHED_RESTART_WAIT_S = 60.0  # how long an attached kernel's owner may take to start it again


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
    # The session's own name for the cell, unique across kernels: Jupyter's msg ids repeat after a
    # restart (each new client counts from 1 again).
    id: str = ""
    number: int | None = None
    started: float | None = None
    reply: dict | None = None  # the execute_reply's content, once it came
    idle: bool = False  # iopub said the kernel is idle after this cell: all its output is in


class KernelSession:
    """Start a kernel with torchtui's extension, run cells, ask it things, interrupt, restart."""

    def __init__(self, on_event: Callable[[object], None], device: str = "auto",
                 existing: Path | None = None) -> None:
        self.on_event = on_event
        self.device = device
        self.existing = existing  # the connection file of someone else's kernel, when attached
        self.plain = ""  # attached to a kernel that could not load the engine: why
        self.engine_version = ""
        self.kernel_session = ""  # the kernel process's Jupyter session id: a restart changes it
        self.km: AsyncKernelManager | None = None
        self.kc: AsyncKernelClient | None = None
        self.ready = False
        self.dead = False
        self.cells: dict[str, Cell] = {}  # sent and not yet answered, by msg id, in order
        self.unsent: list[Cell] = []  # cells typed while the kernel could not take them, in order
        self._finished: dict[str, Cell] = {}  # answered cells of this kernel by msg id, oldest first
        self._cell_ids = itertools.count(1)
        self.subshell: str | None = None
        self.comm_id = ""
        self._replies: dict[str, asyncio.Future] = {}  # shell replies by msg_id
        self._own_requests: dict[str, None] = {}  # msg ids of requests and completions sent, oldest first
        self._requests: dict[int, asyncio.Future] = {}  # comm replies by request id
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task] = []
        self._busy_restart = False
        self._closing = False
        self._log = None

    def _emit(self, event) -> None:
        # Once shutting down, nobody is listening: an app tearing down its screens must not get
        # a start that failed because it was stopped.
        if not self._closing:
            self.on_event(event)

    # --- state the screens read ------------------------------------------------------------
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

    # --- start and stop ----------------------------------------------------------------------
    @property
    def attached(self) -> bool:
        return self.existing is not None

    @property
    def existing_name(self) -> str:
        """The attached kernel's connection file name, as messages name it ("" when it is ours)."""
        return self.existing.name if self.existing is not None else ""

    async def start(self) -> None:
        """Start the kernel (or attach to it) and wait until it can run cells; failures become a
        KernelReady error."""
        # jupyter_client (and zmq under it) takes ~0.2 s to import: in a thread, the event loop
        # keeps drawing and taking keys meanwhile.
        await asyncio.to_thread(importlib.import_module, "jupyter_client")
        if self.attached:
            try:
                from tui.kernel.attach import read_connection

                assert self.existing is not None  # (attached)
                read_connection(self.existing)  # checked before a socket is made (a test, a file rewritten since)
                await self._connect()
            except Exception as exc:  # noqa: BLE001
                self.dead = True
                self._emit(ev.KernelReady(error=t("kernel.attach_failed", name=self.existing_name, error=str(exc))))
                return
            self._tasks.append(asyncio.create_task(self._watch()))
            await self._hello(restarted=False)
            return
        from jupyter_client import AsyncKernelManager

        connection_file, ipc_base, transport = connection_paths()
        self._log = open_log()
        km = AsyncKernelManager(transport=transport, connection_file=str(connection_file),
                                kernel_spec_manager=kernel_spec_manager())
        if transport == "ipc":
            km.ip = str(ipc_base)
        self.km = km
        try:
            await km.start_kernel(stdout=self._log, stderr=self._log, env=kernel_env())
            await self._connect()
        except Exception as exc:  # noqa: BLE001 - a kernel that cannot start is said, not raised
            self.dead = True
            self._emit(ev.KernelReady(error=t("kernel.start_failed", error=f"{type(exc).__name__}: {exc}")))
            return
        self._tasks.append(asyncio.create_task(self._watch()))
        await self._hello(restarted=False)

    def _new_client(self):
        if not self.attached:
            return self.km.client()
        from jupyter_client.asynchronous import AsyncKernelClient

        kc = AsyncKernelClient()
        kc.load_connection_file(str(self.existing))
        return kc

    async def _connect(self) -> None:
        kc = self._new_client()
        kc.start_channels()
        self.kc = kc
        for task in self._tasks:
            if task.get_name().startswith("torchtui-read"):
                task.cancel()
        self._tasks = [t for t in self._tasks if not t.get_name().startswith("torchtui-read")]
        reply = await self._attached_info() if self.attached else None
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
        if self.attached:
            await self._load_engine()
            if self.plain:
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

    async def _attached_info(self) -> dict | None:
        """An attached kernel may be busy with a notebook's long cell, which holds its main shell:
        its heartbeat and control channel answer all the same (ipykernel 6.10 and later), and
        attaching goes on through a subshell. None from a kernel that only answers on the shell:
        _connect waits for that one as for its own kernels."""
        if not await self._wait_heartbeat(True, 60.0):
            raise TimeoutError(t("kernel.no_heartbeat"))
        # The same key check as the command line's, made again for what got past it (a test's
        # app, a file its owner rewrote since): a kernel drops a request signed with another key
        # without a word, and only a short wait tells that silence from a slow answer.
        from tui.kernel.attach import accepts_key, read_connection

        assert self.existing is not None  # (attached)
        if not await asyncio.to_thread(accepts_key, read_connection(self.existing)):
            raise TimeoutError(t("kernel.wrong_key"))
        try:
            return await self._control("kernel_info_request", {}, timeout=3.0)
        except Exception:  # noqa: BLE001 - an older kernel, or one that does not say (queue.Empty)
            return None

    async def _load_engine(self) -> None:
        """Load torchtui's extension into an attached kernel (as a user expression: nothing is
        printed and nothing is added to the namespace); if its Python cannot, run it plain."""
        from tui.kernel.attach import ATTACH_EXPRESSION

        content = {"code": "", "silent": True, "store_history": False, "allow_stdin": False,
                   "stop_on_error": False, "user_expressions": {"torchtui": ATTACH_EXPRESSION}}
        reply = await self._shell_request("execute_request", content, timeout=120)
        result = reply["content"].get("user_expressions", {}).get("torchtui", {})
        if result.get("status") == "ok":
            self.plain = ""
            try:
                self.engine_version = str(ast.literal_eval(result.get("data", {}).get("text/plain", "''")))
            except (ValueError, SyntaxError):
                self.engine_version = ""
        else:
            why = f"{result.get('ename', 'error')}: {result.get('evalue', '')}".strip(": ")
            self.plain = t("kernel.plain", why=why or t("kernel.no_reason"))

    @staticmethod
    async def _wait_kernel_info(kc, msg_id: str, timeout: float = 60.0) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            reply = await kc.shell_channel.get_msg(timeout=max(0.1, end - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply
        raise TimeoutError(t("kernel.no_answer"))

    async def wait_ready(self, timeout: float = REQUEST_TIMEOUT_S) -> None:
        """Until the kernel can take requests (it may still be starting); KernelGone if it is dead."""
        end = time.monotonic() + timeout
        while not (self.ready and self.kc is not None):
            if self.dead and not self._busy_restart:
                raise KernelGone(t("kernel.not_running_f9"))
            if time.monotonic() > end:
                raise KernelGone(t("kernel.starting"))
            await asyncio.sleep(0.05)

    async def _hello(self, restarted: bool) -> None:
        if self.plain:
            self.ready = True
            self._emit(ev.KernelReady(restarted=restarted, plain=self.plain))
            self._send_unsent()
            return
        try:
            from tui.i18n import language, said_text

            info = await self.request(Hello(self.device, language()))
        except Exception as exc:  # noqa: BLE001
            self.ready = True
            self._emit(ev.KernelReady(error=said_text(exc), restarted=restarted))
            self._send_unsent()
            return
        self.ready = True
        self._emit(ev.KernelReady(info.torch, info.device, info.device_text, restarted=restarted,
                                  waiting=len(self.unsent), modules=info.modules))
        self._send_unsent()

    async def shutdown(self) -> None:
        """Stop the kernel and everything it started; safe to call twice."""
        if self._closing:
            return
        self._closing = True
        for task in self._tasks:
            task.cancel()
        if self.attached:
            await self._detach()
            return
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            try:
                if await self.km.is_alive():
                    # Asked, not killed: the kernel stops its own children (DataLoader workers)
                    # and exits; past the wait it is killed all the same.
                    self.km.shutdown_wait_time = SHUTDOWN_WAIT_S
                    await self.km.shutdown_kernel(now=False)
                else:
                    await self.km.cleanup_resources()
            except Exception:
                self.kill_now()
        if self._log is not None:
            self._log.close()
        folder = Path(self.km.connection_file).parent if self.km is not None else None
        if folder is not None and folder.name.startswith("torchtui-"):  # our own temporary folder
            shutil.rmtree(folder, ignore_errors=True)
        elif folder is not None:
            remove_own_files(folder)

    async def _detach(self) -> None:
        """Leave an attached kernel as it was found, running: close our comm and subshell only."""
        if self.kc is None:
            return
        if not self.dead:
            try:
                if self.comm_id and not self.plain:
                    self._send_shell("comm_close", {"comm_id": self.comm_id, "data": {}})
                if self.subshell:
                    await self._control("delete_subshell_request", {"subshell_id": self.subshell}, timeout=1.0)
            except Exception:  # noqa: BLE001 - leaving anyway
                pass
        self.kc.stop_channels()

    def kill_now(self) -> None:
        """Last resort at exit when the loop is gone: SIGKILL the kernel's process group."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (OSError, AttributeError):
                process.kill()

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

    def _send_cell(self, cell: Cell) -> None:
        assert self.kc is not None  # (cells are sent once connected; before, they wait in unsent)
        msg_id = self.kc.execute(cell.source, store_history=True, allow_stdin=True, stop_on_error=False)
        cell.sent = time.monotonic()
        self.cells[msg_id] = cell

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

    def answer(self, value: str) -> None:
        """Reply to the cell's input request ("\x04" is end of file: EOFError in the cell)."""
        if self.kc is not None and not self.dead:
            self.kc.input(value)

    async def interrupt(self) -> None:
        if self.dead:
            return
        if self.attached:  # someone else's process, maybe on another machine: asked, not signalled
            if self.kc is not None:
                self.kc.control_channel.send(self.kc.session.msg("interrupt_request", {}))
        elif self.km is not None:
            await self.km.interrupt_kernel()

    async def restart(self) -> None:
        """Kill the kernel process and start a fresh one: memory, CUDA context and all are gone."""
        if self.attached:
            await self._restart_attached()
            return
        if self.km is None or self._busy_restart:
            return
        self._begin_restart()
        try:
            if self.dead or not await self.km.is_alive():
                await self.km.start_kernel(stdout=self._log, stderr=self._log, env=kernel_env())
            else:
                await self.km.restart_kernel(now=True)
            self.dead = False
            if self.kc is not None:
                self.kc.stop_channels()
            await self._connect()
        except Exception as exc:  # noqa: BLE001
            self.dead = True
            self._emit(ev.KernelReady(error=t("kernel.restart_failed", error=str(exc)), restarted=True))
            return
        finally:
            self._busy_restart = False
        await self._hello(restarted=True)

    async def _restart_attached(self) -> None:
        """Ask an attached kernel to restart (its owner starts it again on the same connection
        file), wait for its heartbeat to come back, then attach again."""
        if self._busy_restart or self.kc is None:
            return
        self._begin_restart()
        try:
            if not self.dead:
                self.kc.control_channel.send(self.kc.session.msg("shutdown_request", {"restart": True}))
                await self._wait_heartbeat(False, 10.0)
            if not await self._wait_heartbeat(True, ATTACHED_RESTART_WAIT_S):
                self.dead = True
                self._emit(ev.KernelDied(t("kernel.attached_down", name=self.existing_name)))
                return
            await self._reattach()
        finally:
            self._busy_restart = False

    async def _wait_heartbeat(self, beating: bool, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._beating() == beating:
                return True
            await asyncio.sleep(0.2)
        return False

    def _beating(self) -> bool:
        return self.kc is not None and self.kc.hb_channel.is_beating()

    async def _reattach(self) -> None:
        """Attach again to a kernel that came back (restarted by us or by its owner)."""
        self.ready = False
        self.dead = False  # requests wait (not ready) rather than fail while attaching again
        old = self.kc
        try:
            await self._connect()
        except Exception as exc:  # noqa: BLE001
            self.dead = True
            self._emit(ev.KernelReady(error=t("kernel.reattach_failed", name=self.existing_name, error=str(exc)),
                                      restarted=True))
            return
        finally:
            if old is not None and old is not self.kc:
                old.stop_channels()
        await self._hello(restarted=True)

    def _begin_restart(self) -> None:
        """Whichever way a kernel restarts: busy, not ready, said, and what waited on it failed."""
        self._busy_restart = True
        self.ready = False
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
        self._finished.clear()  # the next kernel's msg ids start again from 1
        for future in [*self._replies.values(), *self._requests.values()]:
            if not future.done():
                future.set_exception(KernelGone(t(f"kernel.{status}")))
        self._replies.clear()
        self._requests.clear()

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
        """Ask the extension (see engine.kernel.requests) and return its answer; Refused with the
        kernel's message, KernelGone without a kernel, TimeoutError past `timeout` (by default
        the request type's)."""
        timeout = request.timeout if timeout is None else timeout
        if not isinstance(request, Hello):
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

    async def _shell_request(self, msg_type: str, content: dict, timeout: float):
        msg_id = self._send_shell(msg_type, content)
        future = asyncio.get_running_loop().create_future()
        self._replies[msg_id] = future
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._replies.pop(msg_id, None)

    async def complete(self, code: str, cursor_pos: int, timeout: float = 2.0) -> tuple[int, int, list[str]]:
        """IPython's completions at cursor_pos: (start, end, matches)."""
        reply = await self._shell_request("complete_request", {"code": code, "cursor_pos": cursor_pos}, timeout)
        content = reply["content"]
        if content.get("status") != "ok":
            return cursor_pos, cursor_pos, []
        # a kernel that also asks jedi (not ours) can name a completion twice
        return content["cursor_start"], content["cursor_end"], list(dict.fromkeys(content.get("matches", [])))

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
        del self.cells[msg_id]
        self._finished[msg_id] = cell
        while len(self._finished) > FINISHED_KEPT:
            self._finished.pop(next(iter(self._finished)))
        self._send_unsent()  # a place is free for a waiting cell
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
        """True for the first message of an attached kernel that its owner restarted so quickly
        that the heartbeat never missed: another process, another session id. Attaching again
        follows."""
        if not self.attached or self._busy_restart or not self.ready or not self.kernel_session:
            return False
        if msg.get("header", {}).get("session", self.kernel_session) == self.kernel_session:
            return False
        self._begin_restart()

        async def again() -> None:
            try:
                await self._reattach()
            finally:
                self._busy_restart = False

        self._tasks.append(asyncio.create_task(again()))
        return True

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

    # --- death ----------------------------------------------------------------------------------
    async def _watch(self) -> None:
        misses = 0
        while True:
            await asyncio.sleep(DEATH_POLL_S)
            if self._busy_restart or self._closing:
                continue
            if self.attached:
                misses = await self._watch_attached(misses)
                continue
            if self.dead or self.km is None:
                continue
            if await self.km.is_alive():
                continue
            self.dead = True
            self.ready = False
            cause = death_cause(self.km)
            self._fail_pending("lost", partial(ev.KernelDied, cause))


    async def _watch_attached(self, misses: int) -> int:
        """An attached kernel is watched by its heartbeat; one that comes back (restarted by its
        owner) is attached to again."""
        beating = self._beating()
        if self.dead:
            if beating:
                self._busy_restart = True
                try:
                    await self._reattach()
                finally:
                    self._busy_restart = False
            return 0
        misses = 0 if beating else misses + 1
        if misses >= HEARTBEAT_MISSES:
            self.dead = True
            self.ready = False
            cause = t("kernel.attached_lost", name=self.existing_name)
            self._fail_pending("lost", partial(ev.KernelDied, cause))
            return 0
        return misses


def remove_own_files(folder: Path) -> None:
    """Remove what this app's kernels left in the runtime folder: the sockets of a kernel that was
    killed (a kill-restart, a death) are never removed by that kernel. All of them are named
    kernel-<this app's pid>-…"""
    for path in folder.glob(f"kernel-{os.getpid()}-*"):
        try:
            path.unlink()
        except OSError:
            pass


def death_cause(km) -> str:
    """How the kernel process ended, in words a learner can act on."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    code = process.poll() if process is not None else None
    if code is None:
        return t("kernel.stopped_answering")
    if code < 0:
        number = -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        known = ("SIGSEGV", "SIGKILL", "SIGABRT", "SIGBUS", "SIGTERM")
        why = t(f"kernel.signal.{name}" if name in known else "kernel.signal.other")
        return t("kernel.died", why=why, signal=name)
    return t("kernel.exited", code=code)
