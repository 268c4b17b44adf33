"""`live(loss=..., acc=...)`: named numbers from the learner's own loop, plotted live in the app.

A call only queues its values: a tensor is detached (so no autograd graph is kept) and left on its
device; a Python number is kept as it is. Ten times a second a thread takes what was queued,
stacks the tensors of each device and dtype and reads them with one copy (one sync per device per
redraw, never one per call), and sends the new points to the app. Each cell that calls live()
starts a new run; the app keeps the previous run for comparison. The whole run stays in the kernel, for
`live_export` (CSV).
"""

from __future__ import annotations

import csv
import io
import math
import threading
import time
from array import array
from collections import deque
from pathlib import Path

from engine import paths
from engine.i18n import SaidError
from engine.plotdata import downsample
from engine.protocol import LiveSeries

FLUSH_S = 0.1  # at most 10 redraws a second
POINTS_PER_FLUSH = 400  # per series: more new points than this are sent as each bin's min and max
MAX_SERIES = 12


class LiveError(SaidError, ValueError):
    """A value live() cannot plot; the message says what to pass instead."""


class Live:
    """The function put in the namespace as `live`."""

    def __init__(self, emit) -> None:
        import torch

        self._tensor = torch.Tensor
        self._emit = emit
        self.run_now = 0  # the number of the cell now running (set before each cell)
        self._queue: deque = deque()  # (run, name, value); append and popleft are thread-safe
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.run = 0  # the run being drawn
        # this run's values, whole; arrays of doubles, which the garbage collector never walks
        # (a list of millions of floats would make every full collection of the kernel slow)
        self.series: dict[str, array] = {}
        self.sent: dict[str, int] = {}

    def __call__(self, **values) -> None:
        run = self.run_now
        append = self._queue.append
        for name, value in values.items():
            if isinstance(value, self._tensor):
                if value.numel() != 1:
                    raise LiveError("live.err.shape", name=name, shape=str(tuple(value.shape)))
                append((run, name, value.detach()))  # no autograd graph is kept; no sync here
            elif type(value) is float or type(value) is int:
                append((run, name, value))
            else:
                try:
                    append((run, name, float(value)))
                except (TypeError, ValueError):
                    raise LiveError("live.err.type", name=name, kind=type(value).__name__) from None
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="torchtui-live", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            time.sleep(FLUSH_S)
            try:
                self.flush()
            except Exception:  # a send that failed (the app went away): the next flush tries again
                pass

    def flush(self) -> None:
        """Read what was queued (one copy per device and dtype) and send the new points."""
        taken = []
        while self._queue:
            taken.append(self._queue.popleft())
        if not taken:
            return
        numbers = read_numbers([value for _, _, value in taken])
        new_run = False
        for (run, name, _), number in zip(taken, numbers, strict=True):
            if run != self.run:
                self.series, self.sent, self.run, new_run = {}, {}, run, True
            if name not in self.series and len(self.series) >= MAX_SERIES:
                continue
            series = self.series.get(name)
            if series is None:
                series = self.series[name] = array("d")
            series.append(number)
        update = {}
        for name, ys in self.series.items():
            start = self.sent.get(name, 0)
            if start == len(ys):
                continue
            xs, chunk = downsample(list(range(start + 1, len(ys) + 1)), ys[start:].tolist(), POINTS_PER_FLUSH // 2)
            update[name] = {"x": xs, "y": chunk, "count": len(ys), "last": ys[-1]}
            self.sent[name] = len(ys)
        if update or new_run:
            self._emit(LiveSeries(self.run, new_run, update))

    def export(self, path: str) -> str:
        """Write this run's series as CSV: a step column and one column per name."""
        self.flush()
        if not self.series:
            raise LiveError("live.err.empty")
        names = list(self.series)
        target = Path(path).expanduser()
        handle = io.StringIO(newline="")
        writer = csv.writer(handle)
        writer.writerow(["step", *names])
        for step in range(max(len(v) for v in self.series.values())):
            writer.writerow([step + 1, *(self.series[n][step] if step < len(self.series[n]) else ""
                                         for n in names)])
        # mode 0600, a regular file or nothing replaced (never through a FIFO, a device or a link)
        paths.write_private(target, handle.getvalue())
        return str(target)


def read_numbers(values: list) -> list[float]:
    """Floats of `values` (numbers and one-element tensors), reading the tensors of each device and
    dtype with one stack and one copy."""
    import torch

    out: list[float] = [math.nan] * len(values)
    groups: dict[tuple, list[int]] = {}
    tensor = torch.Tensor
    for i, value in enumerate(values):
        if isinstance(value, tensor):
            groups.setdefault((value.device, value.dtype, value.shape), []).append(i)
        else:
            out[i] = float(value)
    for indices in groups.values():
        # one copy to the CPU, then float64 there (MPS has no float64)
        stacked = torch.stack([values[i] for i in indices]).cpu().to(torch.float64).reshape(-1)
        for i, number in zip(indices, stacked.tolist(), strict=True):
            out[i] = number
    return out


_LIVE: list[Live] = []


def live_function(ip, emit) -> Live:
    """The one `live` of this process (made on first use): each cell's calls are one run."""
    if not _LIVE:
        live = Live(emit)
        live.run_now = ip.execution_count

        def before(info) -> None:
            # IPython counts the cell before it fires pre_run_cell: the starting cell's number
            # (its In [n]) is one less, unless the cell stays out of the history
            counted = getattr(info, "store_history", True)
            live.run_now = ip.execution_count - 1 if counted else ip.execution_count

        ip.events.register("pre_run_cell", before)
        _LIVE.append(live)
    return _LIVE[0]
