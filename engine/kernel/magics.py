"""torchtui's % commands in the kernel: %autograd, %model, %plot, %train, %who, %reset, %timeit and %help.

IPython's own magics (%time, %run, %debug, %history, …) stay; %who, %reset and %timeit/%%timeit are
replaced by versions that speak about tensors, never ask for confirmation and, for %timeit (IPython's
own, options and all), synchronise the GPU before each reading of the clock.
"""

from __future__ import annotations

import gc
import re
import timeit
from contextlib import contextmanager

from IPython import get_ipython
from IPython.core.error import UsageError
from IPython.core.magics import execution

from engine.autograd import AutogradError
from engine.devices import free_cuda_cache
from engine.grad_text import walk_lines
from engine.i18n import counted, say, spoken
from engine.kernel import inspections
from engine.kernel.bridge import bridge
from engine.kernel.state import display, fill_namespace, own_kernel
from engine.kernel.train_magic import train_magic
from engine.model_view import ModelViewError, describe_in, tree_lines
from engine.protocol import AutogradShown, ModelShown, Variables
from engine.repl.variables import collect
from engine.tensorplot import PlotError, plot_text


class MagicError(ValueError):
    """A % command used wrongly; the message says how to use it."""


def _usage(message: str):
    return UsageError(message)


def help_magic(line: str = "") -> None:
    print(say("magic.help"))


def synchronize() -> None:
    """Wait for the GPU work queued so far: a clock read before it would time the queueing only.
    A process that never used CUDA gets no CUDA context for it."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        torch.mps.synchronize()


TIMEIT_OPTIONS = "n:r:tcp:qov:"  # IPython's %timeit options, as its magic parses them


def timeit_magic(line: str = "", cell: str | None = None, local_ns: dict | None = None):
    """IPython's %timeit and %%timeit (its options, its loop count and repeats), with the clock read
    after synchronising the GPU at the start and end of each run, as torch.utils.benchmark does."""
    if not line.strip() and cell is None:
        raise _usage(say("magic.timeit_usage"))

    ipython = get_ipython().magics_manager.registry["ExecutionMagics"]
    opts, _ = ipython.parse_options(line, TIMEIT_OPTIONS, posix=False, strict=False, preserve_non_opts=True)
    with _synchronised_clock():
        result = ipython.timeit("-q -o " + line, cell, local_ns)  # said below, in the learner's language
    if result is None:
        return None
    if "q" not in opts:
        best, worst = result.best, result.worst
        if worst > 4 * best and best > 0 and worst > 1e-6:  # as IPython warns
            print(say("magic.timeit_slowest", ratio=f"{worst / best:.2f}"))
        precision = int(getattr(opts, "p", 3))  # IPython's default
        print(say("magic.timeit", mean=_duration(result.average, precision), std=_duration(result.stdev, precision),
                  runs=say(counted("magic.timeit_runs", result.repeat), n=f"{result.repeat:,}"),
                  loops=say(counted("magic.timeit_loops", result.loops), n=f"{result.loops:,}")))
    return result if "o" in opts else None


timeit_magic.needs_local_scope = True  # type: ignore[attr-defined]  # (%timeit inside a function sees its names)


def _duration(seconds: float, precision: int) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e3), ("µs", 1e6)):
        if seconds >= 1 / scale:
            return f"{seconds * scale:.{precision}g} {unit}"
    return f"{seconds * 1e9:.{precision}g} ns"


@contextmanager
def _synchronised_clock():
    """While IPython's timeit runs: its Timer reads a clock that synchronises first (whichever
    clock -t or -c chose)."""
    plain = execution.Timer

    class SynchronisedTimer(plain):
        def __init__(self, *args, timer=timeit.default_timer, **kwargs) -> None:
            def synchronised() -> float:
                synchronize()
                return timer()

            super().__init__(*args, timer=synchronised, **kwargs)

    execution.Timer = SynchronisedTimer
    try:
        yield
    finally:
        execution.Timer = plain


def who_magic(line: str = "") -> None:
    rows = collect(_visible(get_ipython()))
    if not rows:
        print(say("magic.who_empty"))
        return
    width = max(len(r.name) for r in rows)
    for r in rows:
        grad = " requires_grad" if r.requires_grad else ""
        print(f"{r.name:<{width}}  {r.kind:<7} {r.shape:<14} {r.dtype:<9} {r.device:<6} {r.nbytes:>12,} B{grad}")


def _visible(ip) -> dict:
    hidden = ip.user_ns_hidden
    return {k: v for k, v in ip.user_ns.items() if k not in hidden or hidden[k] is not v}


def reset_magic(line: str = "") -> None:
    ip = get_ipython()
    ip.reset(new_session=False)
    if bridge.training is not None:  # the last run's data is the learner's too: %reset lets it go
        bridge.training.forget_data()
    fill_namespace(ip)
    gc.collect()
    free_cuda_cache()
    print(say("magic.reset"))
    bridge.emit(Variables())


def autograd_magic(line: str) -> None:
    arg = line.strip()
    if not arg:
        raise _usage(say("magic.autograd_usage"))

    try:
        inspection = inspections.from_expression(arg, get_ipython().user_ns)
    except AutogradError as exc:
        raise _usage(str(exc)) from None
    rec = inspection.recording
    app = bridge.comm_of_current_cell()
    if app is not None:  # a torchtui app sent this cell: its Autograd screen shows the recording
        print(say("magic.autograd_recorded", steps=len(rec.steps), nodes=len(rec.graph.nodes)))
        bridge.emit(AutogradShown(inspection.payload()), comm=app)
    else:  # a notebook or IPython: the same walk `torchtui grad` prints

        print("\n".join(walk_lines(rec, spoken())))


def model_magic(line: str) -> None:
    """%model NAME[, INPUT]: the module as a tree; the app that sent the cell shows it in its Model
    view, a notebook or IPython gets the tree as text. INPUT `@batch` is the last Training run's
    first batch (the kernel's TrainingRun keeps that run's data)."""
    arg = line.strip()
    if not arg:
        raise _usage(say("model.usage"))
    try:
        summary = describe_in(get_ipython().user_ns, arg, getattr(bridge.training, "run_data", None))
    except ModelViewError as exc:
        raise _usage(str(exc)) from None
    app = bridge.comm_of_current_cell()
    if app is not None:
        print(say(counted("model.opened", summary.modules), name=summary.name, n=f"{summary.modules:,}"))
        bridge.emit(ModelShown(summary), comm=app)
    else:
        print("\n".join(tree_lines(summary, spoken())))


def plot_magic(line: str) -> None:
    hist = bool(re.search(r"(?:^|\s)--hist(?=\s|$)", line))
    source = re.sub(r"(?:^|\s)--hist(?=\s|$)", " ", line)
    bins = 40
    found = re.search(r"(?:^|\s)--bins\s+(\d+)(?=\s|$)", source)
    if found:
        bins = max(1, int(found.group(1)))
        source = source[:found.start()] + " " + source[found.end():]
    source = source.strip()
    if not source:
        raise _usage(say("magic.plot_usage"))
    try:
        code = compile(source, "<plot>", "eval")
    except SyntaxError as exc:
        unknown = re.search(r"(?:^|\s)(--[A-Za-z][\w-]*)", source)
        if unknown:
            raise _usage(say("magic.plot_option", option=unknown.group(1)) + " " + say("magic.plot_usage")) from None
        raise _usage(say("magic.plot_syntax", source=repr(source), error=exc.msg)) from None
    try:
        value = eval(code, get_ipython().user_ns)  # noqa: S307 - the learner's own expression
    except Exception as exc:
        raise _usage(say("magic.plot_failed", source=source, error=f"{type(exc).__name__}: {exc}")) from None
    try:
        print(plot_text(value, source, columns=display.columns, hist=hist, bins=bins))
    except PlotError as exc:
        raise _usage(f"%plot: {exc}") from None


def register(ip) -> None:
    magics = [("help", help_magic), ("who", who_magic), ("autograd", autograd_magic), ("model", model_magic),
              ("plot", plot_magic), ("train", train_magic)]
    if own_kernel():  # in someone else's kernel (a notebook's) IPython's %reset, which asks first, stays
        magics.append(("reset", reset_magic))
    for name, func in magics:
        ip.register_magic_function(func, "line", name)
    ip.register_magic_function(timeit_magic, "line_cell", "timeit")
