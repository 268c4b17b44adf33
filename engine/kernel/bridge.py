"""The comm between the app and the kernel: requests in, replies and events out, all plain JSON.

A request is `{"id": n, "op": name, "args": {...}}`; its reply `{"reply": n, "ok": bool, "result"
or "error": ...}`. Events (`{"event": name, ...}`) are sent whenever the kernel has news: the
variables after a cell, training progress, a %autograd recording. The app sends its requests on a
subshell, so they are answered while a cell runs (unless C code holds the GIL).
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable

from engine.wire import to_wire

TARGET = "torchtui"


class RequestError(Exception):
    """A request the kernel cannot do; the message is meant for the user."""


class Bridge:
    """Holds the app's comm (the newest one opened) and the request handlers."""

    def __init__(self) -> None:
        self.comm = None
        self.handlers: dict[str, Callable[..., object]] = {}
        self._send_lock = threading.Lock()

    def register(self, comm_manager) -> None:
        comm_manager.register_target(TARGET, self._opened)

    def _opened(self, comm, _open_msg) -> None:
        self.comm = comm
        comm.on_msg(self._on_msg)

    @property
    def connected(self) -> bool:
        return self.comm is not None

    def send(self, data: dict) -> None:
        comm = self.comm
        if comm is None:
            return
        with self._send_lock:  # the trainer thread and the shell threads both send
            comm.send(data)

    def emit(self, event: str, **data) -> None:
        """Tell the app something happened (no-op without an app attached)."""
        self.send({"event": event, **to_wire(data)})

    def _on_msg(self, msg) -> None:
        request = msg.get("content", {}).get("data") or {}
        rid, op = request.get("id"), request.get("op")
        handler = self.handlers.get(op)
        try:
            if handler is None:
                raise RequestError(f"unknown request {op!r}")
            result = handler(**(request.get("args") or {}))
            reply = {"reply": rid, "ok": True, "result": to_wire(result)}
        except RequestError as exc:
            reply = {"reply": rid, "ok": False, "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - the app gets a message, the log the details
            traceback.print_exc(file=sys.__stderr__)
            first = str(exc).splitlines()[0] if str(exc) else ""
            reply = {"reply": rid, "ok": False, "error": f"{type(exc).__name__}: {first}"}
        self.send(reply)


bridge = Bridge()
