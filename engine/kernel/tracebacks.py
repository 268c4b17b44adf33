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


def own_frames(tb: types.TracebackType | None, callers: bool = False) -> tuple[types.TracebackType | None, int]:
    """A traceback of the user's frames only (rebuilt, the original is untouched) and how many
    library frames were left out. With no frame of the user's, the original is kept.

    callers: the exception was caught in library code (IPython's display formatter, say) rather
    than where the cell ran, so the user's frames that called it (the cell's line that showed the
    value) are above the traceback's first frame; they come first, as Python shows them."""
    kept, hidden = [], 0
    if callers and tb is not None:
        frame = tb.tb_frame.f_back
        while frame is not None:
            if not is_library(frame.f_code.co_filename):
                kept.append((frame, frame.f_lasti, frame.f_lineno))
            frame = frame.f_back
        kept.reverse()
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if is_library(filename):
            # IPython's own frame (the one that ran the cell) is no frame of the user's code;
            # caught inside the library, every frame of it is (the printer's, say)
            hidden += callers or "IPython" not in filename.split("site-packages")[-1].split("/")[:2]
        else:
            kept.append((tb.tb_frame, tb.tb_lasti, tb.tb_lineno))
        tb = tb.tb_next
    if not kept:
        return None, 0
    rebuilt = None
    for frame, lasti, lineno in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, frame, lasti, lineno)
    return rebuilt, hidden


def install(ip) -> None:
    from IPython.core.error import UsageError

    def show(shell, etype, value, tb, tb_offset=None, callers=False):
        short, hidden = own_frames(tb, callers)
        if issubclass(etype, UsageError):  # a % command used wrongly: its message is all there is to say
            stb = [f"UsageError: {value}"]
            hidden = 0
        elif issubclass(etype, SyntaxError) and short is None:
            # the cell itself does not parse: its line and the caret, as Python shows them, with
            # no frame of IPython's parser above them
            stb = shell.SyntaxTB.structured_traceback(etype, value, [])
        else:
            # IPython's frame that ran the cell, which its tb_offset skips, is gone from `short`:
            # skipping one more would drop the learner's first line
            stb = shell.InteractiveTB.structured_traceback(etype, value, short or tb,
                                                           tb_offset=tb_offset if short is None else 0)
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
    shown_by_ipython = ip.showtraceback

    def showtraceback(exc_tuple=None, filename=None, tb_offset=None, exception_only=False,
                      running_compiled_code=False):
        """IPython's, except for an exception it was handed (one its display formatter caught
        while showing a value, say): that one is shaped as a cell's error is. %tb, which asks for
        the last traceback, still gets all of it."""
        if exc_tuple is not None and not exception_only and isinstance(exc_tuple[1], Exception):
            show(ip, *exc_tuple, tb_offset=tb_offset, callers=True)
            return
        shown_by_ipython(exc_tuple, filename, tb_offset, exception_only, running_compiled_code)

    ip.showtraceback = showtraceback
