"""The app's own kernel: a process started here with torchtui's extension, interrupted by a
signal, restarted as a fresh process, watched for death, and stopped (with everything it started)
when the app quits."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tui.i18n import t
from tui.kernel import events as ev
from tui.kernel.base import Status
from tui.kernel.jupyter import JupyterKernel
from tui.kernel.launch import connection_paths, kernel_env, kernel_spec_manager, open_log

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager

DEATH_POLL_S = 0.5
SHUTDOWN_WAIT_S = 3.0


class OwnKernel(JupyterKernel):
    """Start a kernel with torchtui's extension, run cells, ask it things, interrupt, restart."""

    def __init__(self, on_event=None, device: str = "auto") -> None:
        super().__init__(on_event, device)
        self.km: AsyncKernelManager | None = None
        self._log = None

    async def start(self) -> None:
        await self._import_client()
        from jupyter_client import AsyncKernelManager  # (imported above, off the event loop)

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
            self._status = Status.DEAD
            self._emit(ev.KernelReady(error=t("kernel.start_failed", error=f"{type(exc).__name__}: {exc}")))
            return
        self._tasks.append(asyncio.create_task(self._watch()))
        await self._hello(restarted=False)

    def _new_client(self):
        assert self.km is not None  # (started before any client)
        return self.km.client()

    async def shutdown(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._stop_tasks()
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

    def process_id(self) -> int | None:
        """The kernel process's id (a fresh one after each restart)."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return getattr(process, "pid", None)

    def kill_now(self) -> None:
        """SIGKILL the kernel's process group."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (OSError, AttributeError):
                process.kill()

    async def interrupt(self) -> None:
        if not self.dead and self.km is not None:
            await self.km.interrupt_kernel()

    async def restart(self) -> None:
        """Kill the kernel process and start a fresh one: memory, CUDA context and all are gone."""
        if self.km is None or self._status is Status.RESTARTING:
            return
        was_dead = self.dead
        self._begin_restart()
        try:
            if was_dead or not await self.km.is_alive():
                await self.km.start_kernel(stdout=self._log, stderr=self._log, env=kernel_env())
            else:
                await self.km.restart_kernel(now=True)
            if self.kc is not None:
                self.kc.stop_channels()
            await self._connect()
            self._status = Status.STARTING  # (a kernel that dies while saying hello is watched again)
        except Exception as exc:  # noqa: BLE001
            self._status = Status.DEAD
            self._emit(ev.KernelReady(error=t("kernel.restart_failed", error=str(exc)), restarted=True))
            return
        await self._hello(restarted=True)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(DEATH_POLL_S)
            if self._status in (Status.RESTARTING, Status.DEAD) or self._closing or self.km is None:
                continue
            if await self.km.is_alive():
                continue
            self._status = Status.DEAD
            self._fail_pending("lost", partial(ev.KernelDied, death_cause(self.km)))


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
