"""Sets up an IPython shell for torchtui: namespace, display formatters, completion, magics, events."""

from __future__ import annotations

import builtins
import gc
import os
import sys
import traceback

from IPython.core.formatters import BaseFormatter
from traitlets import ObjectName, Unicode

from engine import __version__
from engine.devices import free_cuda_cache
from engine.kernel import figures, magics, requests, tracebacks, warning_hints
from engine.kernel.bridge import bridge
from engine.kernel.guards import stream_keeper
from engine.kernel.live import live_function
from engine.kernel.matchers import module_attributes
from engine.kernel.state import fill_namespace, own_kernel
from engine.protocol import Variables
from engine.repl.display import summary_of
from engine.repl.variables import collect

SUMMARY_MIME = "application/vnd.torchtui.summary+json"


def _install_formatters(ip) -> None:
    class SummaryFormatter(BaseFormatter):
        """A one-line summary (shape, dtype, device, statistics) beside the usual text/plain."""

        format_type = Unicode(SUMMARY_MIME)
        _return_type = dict
        print_method = ObjectName("_repr_torchtui_summary_")

    formatter = SummaryFormatter(parent=ip.display_formatter)
    import numpy as np
    import torch

    def summary(value):
        line = summary_of(value)
        if not line:
            return None
        # in_text: text/plain ends with the same line (see _install_text_summaries)
        return {"summary": line, "in_text": True} if ip in _TEXT_SUMMARIES else {"summary": line}

    for kind in (torch.Tensor, np.ndarray, torch.nn.Module):
        formatter.for_type(kind, summary)
    ip.display_formatter.formatters[SUMMARY_MIME] = formatter
    if SUMMARY_MIME not in ip.display_formatter.active_types:
        ip.display_formatter.active_types.append(SUMMARY_MIME)


def _install_completion(ip) -> None:
    completer = ip.Completer
    if own_kernel():
        # Plain tracebacks: Python's own layout, which fits a terminal column (the default
        # context mode draws 75-character rules).
        ip.InteractiveTB.set_mode(mode="Plain")

        tracebacks.install(ip)
        # Nothing the user wrote runs while completing: no jedi (it runs properties), and
        # IPython's own evaluation limited to what has no side effects.
        completer.use_jedi = False
        completer.evaluation = "limited"
    else:
        tracebacks.install_explanations(ip)
    matcher = module_attributes(ip)
    if matcher not in completer.custom_matchers:
        completer.custom_matchers.append(matcher)


OOM_WORDS = ("out of memory", "can't allocate memory")


def _release_after_oom(error: BaseException | None) -> None:
    """After an out-of-memory error, let go of what the failed cell's frames held: IPython keeps
    the last traceback for %debug, and with it every tensor the cell had made."""
    if error is None or not any(w in str(error).lower() for w in OOM_WORDS):
        return

    traceback.clear_frames(error.__traceback__)
    gc.collect()
    free_cuda_cache()


def _forget_old_values(ip) -> None:
    """Keep only the latest value (`_`, and its Out/_N entry): IPython's output cache would keep
    every value a cell ever showed alive, a 400 MB tensor each time, and on a GPU memory that no
    variable of the learner's seems to hold."""
    out = ip.user_ns.get("_oh")
    if isinstance(out, dict) and len(out) > 1:
        last = max(out)
        for number in [n for n in out if n != last]:
            del out[number]
            ip.user_ns.pop(f"_{number}", None)
    hook = ip.displayhook
    for name in ("__", "___"):
        old = getattr(hook, name, "")
        if isinstance(old, str):
            continue
        setattr(hook, name, "")
        if ip.user_ns.get(name) is old:  # not a variable the learner named __ themselves
            ip.user_ns[name] = ip.user_ns_hidden[name] = ""


def _after_cell(ip):
    def after(result) -> None:
        _release_after_oom(getattr(result, "error_in_exec", None))
        if own_kernel():
            _forget_old_values(ip)
        if not bridge.connected:
            return

        try:
            rows = collect(ip.user_ns)
        except Exception:  # a strange object in the namespace must not break the cell's end
            return
        bridge.emit(Variables(tuple(rows)))
    return after


TEXT_MARK = "# "  # starts the summary line added to text/plain in notebooks and IPython
_LOADED: list = []  # the shells set up already (one per process, in practice)
_TEXT_SUMMARIES: list = []  # the shells whose text/plain carries the summary line


def _install_text_summaries(ip) -> None:
    """In a notebook or IPython, which show text/plain only, a tensor's text gets its summary as
    a last line: `# shape (2, 3) · float32 · cpu · min 0 max 5 …`.

    Added once the whole value is rendered (the summary formatter's line, for the value itself):
    a printer registered for tensors with `for_type` is also used for the tensors inside a tuple,
    list or dict, and would put the line inside the brackets."""
    if ip in _TEXT_SUMMARIES:
        return
    formatter = ip.display_formatter
    rendered = formatter.format

    def format_with_summary(obj, include=None, exclude=None):
        data, metadata = rendered(obj, include=include, exclude=exclude)
        summary = data.get(SUMMARY_MIME) if isinstance(data, dict) else None
        text = data.get("text/plain") if isinstance(data, dict) else None
        if isinstance(summary, dict) and summary.get("in_text") and summary.get("summary") and isinstance(text, str):
            data["text/plain"] = text + "\n" + TEXT_MARK + summary["summary"]
        return data, metadata

    formatter.format = format_with_summary  # the displayhook and display() both ask this
    _TEXT_SUMMARIES.append(ip)


KERNEL_NICENESS = 5  # CPU priority below the app's: typing stays quick while training takes the cores


def load_extension(ip) -> None:
    """`%load_ext engine.kernel` (or the app's own kernel at start): set up once; in someone
    else's kernel (a notebook, IPython) text/plain gets the summary line too."""
    load(ip)
    if not own_kernel():
        _install_text_summaries(ip)


def attach(ip) -> str:
    """What an app attaching to a running kernel calls: set up once, leaving the kernel's own
    display alone; returns the engine's version, to be compared with the app's."""
    load(ip)

    return __version__


def load(ip) -> None:
    if ip in _LOADED:
        return
    _LOADED.append(ip)
    if own_kernel():
        try:
            os.nice(KERNEL_NICENESS)
        except OSError:
            pass
        # ipykernel imports debugpy, which points breakpoint() at a debugger client that torchtui
        # never attaches (so it did nothing): back to pdb, which asks its questions through stdin.
        sys.breakpointhook = sys.__breakpointhook__
    fill_namespace(ip)
    _install_formatters(ip)
    _install_completion(ip)

    magics.register(ip)
    figures.install(ip)
    warning_hints.install()

    if not hasattr(builtins, "live"):  # a script run with %run, or a module, sees it too
        setattr(builtins, "live", live_function(ip, bridge.emit))  # noqa: B010 - (builtins has no `live` to type)

    ip.events.register("post_run_cell", stream_keeper())  # `sys.stdout = None` must not stall the next cell
    ip.events.register("post_run_cell", _after_cell(ip))
    try:
        from comm import get_comm_manager  # (here: its import fails in a plain IPython without a kernel)

        bridge.register(get_comm_manager())
    except Exception:  # plain IPython has no kernel to talk through
        pass
    requests.register(bridge, ip)
