"""Tracebacks a learner can read: the frames of their own code (cells, scripts they %run), with
the frames inside installed libraries (torch's nn.Module plumbing, say) left out and counted.
`%tb` still prints everything, and %debug still finds the whole traceback."""

from __future__ import annotations

import os
import sys
import sysconfig
import types

# the engine's own frames (live(), say) are plumbing too, wherever it is installed
ENGINE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
LIBRARY_ROOTS = tuple({sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
                      | {ENGINE_ROOT})


def is_library(filename: str) -> bool:
    return filename.startswith(LIBRARY_ROOTS) or filename.startswith("<frozen")


def own_frames(tb: types.TracebackType | None) -> tuple[types.TracebackType | None, int]:
    """A traceback of the user's frames only (rebuilt, the original is untouched) and how many
    library frames were left out. With no frame of the user's, the original is kept."""
    kept, hidden = [], 0
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if is_library(filename):
            # IPython's own frame (the one that ran the cell) is no frame of the user's code
            hidden += "IPython" not in filename.split("site-packages")[-1].split("/")[:2]
        else:
            kept.append(tb)
        tb = tb.tb_next
    if not kept:
        return None, 0
    rebuilt = None
    for entry in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return rebuilt, hidden


def install(ip) -> None:
    from IPython.core.error import UsageError

    def show(shell, etype, value, tb, tb_offset=None):
        short, hidden = own_frames(tb)
        if issubclass(etype, UsageError):  # a % command used wrongly: its message is all there is to say
            stb = [f"UsageError: {value}"]
            hidden = 0
        else:
            stb = shell.InteractiveTB.structured_traceback(etype, value, short or tb, tb_offset=tb_offset)
        if hidden and short is not None:
            from engine.i18n import say

            stb = [*stb[:-1], say("traceback.hidden" if hidden > 1 else "traceback.hidden_one", n=hidden), stb[-1]]
        publish = getattr(shell, "_showtraceback", None)  # what ipykernel sends as the error message
        if publish is not None:
            publish(etype, value, stb)
        else:
            shell.showtraceback((etype, value, short or tb), tb_offset=tb_offset)
        sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # %debug and %tb: all of it
        if sys.version_info >= (3, 12):
            sys.last_exc = value
        return stb

    ip.set_custom_exc((Exception,), show)
