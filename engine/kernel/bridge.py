"""The comm between the app and the kernel: requests in, replies and events out, all plain JSON.

Requests, replies and events are engine.protocol's typed messages, encoded there: a request is
answered on the comm that asked; events are sent whenever the kernel has news (the variables after
a cell, training progress, a %autograd recording). The app sends its requests on a subshell, so
they are answered while a cell runs (unless C code holds the GIL).

Several apps may be attached to one kernel (and a notebook beside them): each opens its own comm.
News about the namespace goes to all of them; what a cell asked for goes to the app whose cell it was.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from IPython import get_ipython

from engine.i18n import SaidError, said
from engine.protocol import (
    Event,
    ProtocolError,
    Request,
    decode_request,
    encode_event,
    encode_refusal,
    encode_reply,
)

TARGET = "torchtui"


class RequestError(SaidError):
    """A request the kernel cannot do; what it says is meant for the user (the app words it)."""


class Bridge:
    """The apps' comms (by comm id, with the Jupyter session of the client that opened each) and
    the request handlers."""

    def __init__(self) -> None:
        self.comms: dict[str, tuple[Any, str]] = {}  # (ipykernel's Comm: no type information)
        # each request type's handler: it takes the request and returns its answer
        self.handlers: dict[type[Request[Any]], Callable[[Any], object]] = {}
        self._send_lock = threading.Lock()
        self.training: Any = None  # the kernel's TrainingRun (engine.kernel.requests makes it; %train uses it)

    def register(self, comm_manager) -> None:
        comm_manager.register_target(TARGET, self._opened)

    def _opened(self, comm, open_msg) -> None:
        session = (open_msg or {}).get("header", {}).get("session", "")
        self.comms[comm.comm_id] = (comm, session)
        comm.on_msg(lambda msg: self._on_msg(comm, msg))
        comm.on_close(lambda _msg: self.comms.pop(comm.comm_id, None))

    @property
    def connected(self) -> bool:
        return bool(self.comms)

    def comm_of_current_cell(self):
        """The comm of the app that sent the cell now running, or None (a notebook's cell, say)."""
        try:
            parent = get_ipython().kernel.get_parent("shell")
            session = parent["header"]["session"]
        except Exception:
            return None
        for comm, opener in list(self.comms.values()):
            if opener and opener == session:
                return comm
        return None

    def send(self, data: dict, comm=None) -> None:
        targets = [comm] if comm is not None else [c for c, _ in list(self.comms.values())]
        with self._send_lock:  # the trainer thread and the shell threads both send
            for target in targets:
                target.send(data)

    def emit(self, event: Event, comm=None) -> None:
        """Tell the apps (or the one `comm`) that something happened; no-op without an app."""
        if self.comms:
            self.send(encode_event(event), comm)

    def _on_msg(self, comm, msg) -> None:
        data = msg.get("content", {}).get("data") or {}
        rid = data.get("id") if isinstance(data, dict) else None
        try:
            try:
                rid, request = decode_request(data)
            except ProtocolError as exc:
                raise RequestError("err.request.unknown", op=exc.args[0]) from None
            handler = self.handlers.get(type(request))
            if handler is None:  # (a request of a newer app than this kernel's engine)
                raise RequestError("err.request.unknown", op=repr(type(request).__name__))
            reply = encode_reply(rid, handler(request))
        except SaidError as exc:  # RequestError, and the engine's own (a bad device, say)
            reply = encode_refusal(rid, str(exc), exc.said)
        except Exception as exc:  # noqa: BLE001 - the app gets a message, the log the details
            traceback.print_exc(file=sys.__stderr__)
            first = str(exc).splitlines()[0] if str(exc) else ""
            failed = said("err.request.failed", error=f"{type(exc).__name__}: {first}")
            reply = encode_refusal(rid, failed.words(), failed)
        self.send(reply, comm)


bridge = Bridge()
