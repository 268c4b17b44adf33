"""The kernel's own request handlers (engine.kernel.requests) answering a fake kernel's requests in
the test process: screens get the engine's real answers and events (a training run's progress, an
example's recording) without a kernel process. Each request and answer crosses the wire codec and
JSON as it would between two processes.

Tests only: this imports torch, which the app's process never does (tests/test_ui_process.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from types import SimpleNamespace

from engine.kernel import requests
from engine.kernel.bridge import Bridge
from engine.protocol import (
    TrainStop,
    decode_event,
    decode_reply,
    decode_request,
    encode_event,
    encode_refusal,
    encode_reply,
    encode_request,
)
from tui.kernel.base import Refused
from tui.kernel.fake import FakeKernel


def engine_display(value) -> dict:
    """A value's mime bundle as the kernel's extension makes it: its text, and the summary line
    (shape, dtype, device, statistics) of a tensor, an array or a module."""
    from engine.kernel.extension import SUMMARY_MIME
    from engine.repl.display import summary_of

    bundle: dict = {"text/plain": repr(value)}
    line = summary_of(value)
    if line:
        bundle[SUMMARY_MIME] = {"summary": line}
    return bundle


def engine_kernel(**options) -> FakeKernel:
    """A fake kernel whose namespace starts as the kernel's does (torch, np, nn, optim, F) and
    whose values are shown as the kernel shows them, its torch this process's; serve_engine()
    gives it the handlers."""
    import torch

    from engine.kernel.state import starting_names

    options.setdefault("torch_version", torch.__version__)
    kernel = FakeKernel(display=engine_display, **options)
    kernel.namespace.update(starting_names())
    return kernel


def serve_engine(kernel: FakeKernel) -> Bridge:
    """Answer every request type the kernel's extension answers, with its own handlers; their
    events go to the app through the fake. Call it on the test's event loop, or before the app
    starts (a snapshot test's app runs on a loop of its own): the loop is then the one the first
    request comes on. The handlers see the fake's namespace as the user's.

    The handlers live as long as the kernel process they stand for: once the fake restarts or
    dies, their training run stops and nothing more of it reaches the app (a real kernel's thread
    ends with its process), and the next request is answered by fresh handlers, as a new kernel's
    would be (no run, nothing to export). The bridge returned is the first kernel's."""
    from engine.i18n import SaidError

    loops: list[asyncio.AbstractEventLoop] = []
    with contextlib.suppress(RuntimeError):
        loops.append(asyncio.get_running_loop())
    now = SimpleNamespace(bridge=None, restarts=kernel.restarts)  # the kernel "process" answering

    def new_process() -> Bridge:
        bridge, restarts = Bridge(), kernel.restarts

        def emit(event, comm=None) -> None:  # (from the training thread too)
            if kernel.dead or kernel.restarts != restarts:
                gone(bridge)
                return
            wired = decode_event(json.loads(json.dumps(encode_event(event))))
            try:
                loops[-1].call_soon_threadsafe(kernel.send, wired)
            except RuntimeError:  # the test is over and its loop closed: the run has no one to tell
                gone(bridge)

        bridge.emit = emit  # type: ignore[method-assign]
        requests.register(bridge, SimpleNamespace(user_ns=kernel.namespace))
        now.bridge, now.restarts = bridge, restarts
        return bridge

    def gone(bridge: Bridge) -> None:
        """The end of a kernel process ends its training thread; here it would run on in the
        test process, with news of a kernel that is gone."""
        bridge.handlers[TrainStop](TrainStop())

    def answerer(kind: type):
        async def answer(request):
            if not loops or loops[-1] is not asyncio.get_running_loop():
                loops.append(asyncio.get_running_loop())
            if now.restarts != kernel.restarts:  # restarted since the last request: a new kernel answers
                new_process()
            handler = now.bridge.handlers[kind]
            _rid, wired = decode_request(json.loads(json.dumps(encode_request(request, 1))))
            try:
                result = await asyncio.to_thread(handler, wired)
            except SaidError as exc:
                raise Refused(decode_reply(json.loads(json.dumps(encode_refusal(1, str(exc), exc.said))))) from None
            return decode_reply(json.loads(json.dumps(encode_reply(1, result)))).answer
        return answer

    first = new_process()
    for kind in first.handlers:
        kernel.answers[kind] = answerer(kind)
    return first


def _wired(event):
    """An event as the app gets it from a kernel process: through the codec and JSON."""
    return decode_event(json.loads(json.dumps(encode_event(event))))


def send_variables(kernel: FakeKernel) -> None:
    """After each cell the fake sends the variables pane's rows, as the extension's post_run_cell
    hook does (engine.kernel.extension)."""
    from engine.protocol import Variables
    from engine.repl.variables import collect

    kernel.post_run_cell.append(lambda _cell: kernel.send(_wired(Variables(tuple(collect(kernel.namespace))))))


def engine_live(kernel: FakeKernel, monkeypatch):
    """The engine's own live() in the fake's namespace: its thread reads the queued values and
    sends LiveSeries to the app, each cell a run numbered as its In [n]; serve_engine's LiveExport
    writes its CSV. (The kernel's one Live is process-wide: monkeypatch puts it back.)"""
    from engine.kernel import live as live_module

    loop = asyncio.get_running_loop()

    def emit(event) -> None:  # (from live()'s thread)
        wired = _wired(event)
        try:
            loop.call_soon_threadsafe(kernel.send, wired)
        except RuntimeError:  # the test is over and its loop closed; the thread runs on unheard
            pass

    live = live_module.Live(emit)

    def before(cell) -> None:
        live.run_now = cell.number

    kernel.pre_run_cell.append(before)
    kernel.namespace["live"] = live
    monkeypatch.setattr(live_module, "_LIVE", [live])
    return live


def engine_app(**options):
    """The app on an in-process kernel that answers as the kernel does: the tour's checks, the
    inspector's examples, the values and each training run (the engine's own thread, its progress
    and end sent to the screen as a kernel's) are the engine's, with no kernel process."""
    from tui.app import make_app

    kernel = engine_kernel()
    serve_engine(kernel)
    return make_app(kernel=kernel, **options), kernel


def ranks_app(**options):
    """engine_app for a data-parallel run, whose rank processes this process starts. Their Events
    start multiprocessing's resource tracker, which passes sys.stderr's descriptor on: once the app
    runs that is Textual's capture, with none (-1, "bad value(s) in fds_to_keep"). Started first,
    the tracker gets the real one. (A kernel process starts its ranks away from the app.) The
    forkserver the ranks come from needs no such start: it is passed no descriptor of sys.stderr."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    return engine_app(**options)
