"""Someone else's kernel (a notebook's, a `jupyter console`'s), attached to through its connection
file: quitting leaves it running, restart asks the kernel itself (its owner, a notebook server say,
starts it again), interrupt is a message, and its heartbeat says whether it is still there."""

from __future__ import annotations

import ast
import asyncio
import time
from pathlib import Path

from tui.i18n import t
from tui.kernel import events as ev
from tui.kernel.attach import ATTACH_EXPRESSION, accepts_key, read_connection
from tui.kernel.base import Status
from tui.kernel.jupyter import JupyterKernel
from tui.kernel.own import DEATH_POLL_S

HEARTBEAT_MISSES = 3  # death polls without a heartbeat before an attached kernel counts as gone
ATTACHED_RESTART_WAIT_S = 60.0  # how long an attached kernel's owner may take to start it again


class AttachedKernel(JupyterKernel):
    """A running kernel the app attaches to; torchtui's extension is loaded into it, or, where its
    Python cannot load it, cells run plain."""

    attached = True

    def __init__(self, existing: Path, on_event=None, device: str = "auto") -> None:
        super().__init__(on_event, device)
        self.existing = self.connection_file = existing
        self.plain = ""
        self.engine_version = ""

    async def start(self) -> None:
        await self._import_client()
        try:
            read_connection(self.connection_file)  # checked before a socket is made (a test, a file rewritten since)
            await self._connect()
        except Exception as exc:  # noqa: BLE001
            self._status = Status.AWAY
            self._emit(ev.KernelReady(error=t("kernel.attach_failed", name=self.existing_name, error=str(exc))))
            return
        self._tasks.append(asyncio.create_task(self._watch()))
        await self._hello(restarted=False)

    def _new_client(self):
        from jupyter_client.asynchronous import AsyncKernelClient  # (imported by start, off the loop)

        kc = AsyncKernelClient()
        kc.load_connection_file(str(self.connection_file))
        return kc

    async def _kernel_info(self, kc) -> dict | None:
        """An attached kernel may be busy with a notebook's long cell, which holds its main shell:
        its heartbeat and control channel answer all the same (ipykernel 6.10 and later), and
        attaching goes on through a subshell. None from a kernel that only answers on the shell:
        the connection waits for that one as for the app's own kernels."""
        if not await self._wait_heartbeat(True, 60.0):
            raise TimeoutError(t("kernel.no_heartbeat"))
        # The same key check as the command line's, made again for what got past it (a test's
        # app, a file its owner rewrote since): a kernel drops a request signed with another key
        # without a word, and only a short wait tells that silence from a slow answer.
        if not await asyncio.to_thread(accepts_key, read_connection(self.connection_file)):
            raise TimeoutError(t("kernel.wrong_key"))
        try:
            return await self._control("kernel_info_request", {}, timeout=3.0)
        except Exception:  # noqa: BLE001 - an older kernel, or one that does not say (queue.Empty)
            return None

    async def _before_comm(self) -> bool:
        """Load torchtui's extension into the kernel (as a user expression: nothing is printed
        and nothing is added to the namespace); if its Python cannot, run it plain."""
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
        return not self.plain

    async def shutdown(self) -> None:
        """Leave the kernel as it was found, running: close our comm and subshell only."""
        if self._closing:
            return
        self._closing = True
        self._stop_tasks()
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
        """Nothing: the kernel is its owner's, and stays."""

    async def interrupt(self) -> None:
        # someone else's process, maybe on another machine: asked, not signalled
        if not self.dead and self.kc is not None:
            self.kc.control_channel.send(self.kc.session.msg("interrupt_request", {}))

    async def restart(self) -> None:
        """Ask the kernel to restart (its owner starts it again on the same connection file), wait
        for its heartbeat to come back, then attach again."""
        if self._status is Status.RESTARTING or self.kc is None:
            return
        was_away = self.dead
        self._begin_restart()
        if not was_away:
            self.kc.control_channel.send(self.kc.session.msg("shutdown_request", {"restart": True}))
            await self._wait_heartbeat(False, 10.0)
        if not await self._wait_heartbeat(True, ATTACHED_RESTART_WAIT_S):
            self._status = Status.AWAY
            self._emit(ev.KernelDied(t("kernel.attached_down", name=self.existing_name)))
            return
        await self._reattach()

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
        """Attach again to a kernel that came back (restarted by us or by its owner); requests wait
        meanwhile (restarting) rather than fail."""
        self._status = Status.RESTARTING
        old = self.kc
        try:
            await self._connect()
        except Exception as exc:  # noqa: BLE001
            self._status = Status.AWAY
            self._emit(ev.KernelReady(error=t("kernel.reattach_failed", name=self.existing_name, error=str(exc)),
                                      restarted=True))
            return
        finally:
            if old is not None and old is not self.kc:
                old.stop_channels()
        self._status = Status.STARTING
        await self._hello(restarted=True)

    def _restarted_by_owner(self, msg) -> bool:
        """True for the first message of a kernel its owner restarted so quickly that the heartbeat
        never missed: another process, another session id. Attaching again follows."""
        if self._status is not Status.IDLE or not self.kernel_session:
            return False
        if msg.get("header", {}).get("session", self.kernel_session) == self.kernel_session:
            return False
        self._begin_restart()
        self._tasks.append(asyncio.create_task(self._reattach()))
        return True

    async def _watch(self) -> None:
        """Watched by its heartbeat; a kernel that comes back (restarted by its owner) is attached
        to again."""
        misses = 0
        while True:
            await asyncio.sleep(DEATH_POLL_S)
            if self._status is Status.RESTARTING or self._closing:
                continue
            beating = self._beating()
            if self._status is Status.AWAY:
                misses = 0
                if beating:
                    await self._reattach()
                continue
            misses = 0 if beating else misses + 1
            if misses >= HEARTBEAT_MISSES:
                misses = 0
                self._status = Status.AWAY
                self._fail_pending("lost", lambda waiting: ev.KernelDied(
                    t("kernel.attached_lost", name=self.existing_name), waiting))
