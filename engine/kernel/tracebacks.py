"""Tracebacks a learner can read: the frames of their own code (cells, scripts they %run), with
the frames inside installed libraries (torch's nn.Module plumbing, say) left out and counted.
`%tb` still prints everything, and %debug still finds the whole traceback."""

from __future__ import annotations

import linecache
import sys
import traceback
import types

from IPython.core.error import UsageError

from engine.explain.explainer import explained
from engine.explain.frames import is_library
from engine.explain.syntax import diagnose
from engine.i18n import counted, say, spoken
from engine.kernel.state import display

_LIBRARY_CODE: dict = {}  # code object -> is it a library's (asked once per code, not per frame)

REPEATS_SHOWN = 3  # a line repeated in a row shows three times, then the count, as Python shows it
FRAMES_SHOWN = 20  # beyond this, the first and last halves, with the number cut between them
ENTRY_CHARS = 2_000  # one frame, or the exception's message
TOTAL_CHARS = 16_000  # everything that crosses to the app for one error
EARLIER_SHOWN = 5  # exceptions raised while handling (or causing) this one


def _library_code(code: types.CodeType) -> bool:
    known = _LIBRARY_CODE.get(code)
    if known is None:
        if len(_LIBRARY_CODE) > 10_000:
            _LIBRARY_CODE.clear()
        known = _LIBRARY_CODE[code] = is_library(code.co_filename)
    return known


def _user_frames(tb: types.TracebackType | None, callers: bool) -> tuple[list[list], int]:
    """The user's frames as runs: [frame, lasti, lineno, times] for a line met `times` times in a
    row (library frames between them do not break the row), and how many library frames were
    left out. A recursion 10**6 deep is one run, walked once.

    callers: the exception was caught in library code (IPython's display formatter, say) rather
    than where the cell ran, so the user's frames that called it (the cell's line that showed the
    value) are above the traceback's first frame; they come first, as Python shows them."""
    runs: list[list] = []
    hidden = 0

    def keep(frame: types.FrameType, lasti: int, lineno: int | None) -> None:
        last = runs[-1] if runs else None
        if last is not None and last[0].f_code is frame.f_code and last[2] == lineno:
            last[3] += 1
        else:
            runs.append([frame, lasti, lineno, 1])

    if callers and tb is not None:
        above = []
        frame = tb.tb_frame.f_back
        while frame is not None:
            if not _library_code(frame.f_code):
                above.append(frame)
            frame = frame.f_back
        for frame in reversed(above):
            keep(frame, frame.f_lasti, frame.f_lineno)
    while tb is not None:
        code = tb.tb_frame.f_code
        if _library_code(code):
            # IPython's own frame (the one that ran the cell) is no frame of the user's code;
            # caught inside the library, every frame of it is (the printer's, say)
            hidden += callers or "IPython" not in code.co_filename.split("site-packages")[-1].split("/")[:2]
        else:
            keep(tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
        tb = tb.tb_next
    return runs, hidden


def _shown(runs: list[list]) -> tuple[list[tuple], dict[int, str]]:
    """The frames to show (three of a repeated line) and the notes to put after some of them
    (by the frame's index): how many more times a line repeated, how many frames were cut."""
    items: list[tuple] = []  # (frame, lasti, lineno) or ("note", words, frames it stands for)
    for frame, lasti, lineno, times in runs:
        items += [(frame, lasti, lineno)] * min(times, REPEATS_SHOWN)
        if times > REPEATS_SHOWN:
            more = times - REPEATS_SHOWN
            items.append(("note", say(counted("traceback.repeated", more), n=f"{more:,}"), more))
    frames = [i for i, item in enumerate(items) if item[0] != "note"]
    if len(frames) > FRAMES_SHOWN:
        half = FRAMES_SHOWN // 2
        first, last = frames[half - 1], frames[-half]
        cut = sum(item[2] if item[0] == "note" else 1 for item in items[first + 1:last])
        items = [*items[:first + 1], ("note", say(counted("traceback.cut_frames", cut), n=f"{cut:,}"), cut), *items[last:]]
    shown: list[tuple] = []
    notes: dict[int, str] = {}
    for item in items:
        if item[0] == "note":
            if shown:
                index = len(shown) - 1
                notes[index] = f"{notes[index]}\n{item[1]}" if index in notes else item[1]
        else:
            shown.append(item)
    return shown, notes


def _rebuilt(frames: list[tuple]) -> types.TracebackType | None:
    rebuilt = None
    for frame, lasti, lineno in reversed(frames):
        rebuilt = types.TracebackType(rebuilt, frame, lasti, lineno)
    return rebuilt


def _cut(entry: str, limit: int) -> str:
    """`entry` (one frame's text, or the exception's) within `limit` characters: its start and
    end, and how much was left out between them."""
    if len(entry) <= limit:
        return entry

    head, tail = limit * 3 // 4, limit // 4
    note = say("traceback.cut_chars", n=f"{len(entry) - head - tail:,}")
    return f"{entry[:head]}\n{note}\n{entry[-tail:]}"


def bounded(stb: list[str]) -> list[str]:
    """The traceback's parts within TOTAL_CHARS: each part cut to ENTRY_CHARS, then the oldest
    parts left out (the exception itself, which comes last, always stays), saying how much."""
    parts = [_cut(entry, ENTRY_CHARS) for entry in stb]
    total = sum(map(len, parts))
    dropped = 0
    while total > TOTAL_CHARS and len(parts) > 2:
        gone = parts.pop(1)  # the header ("Traceback (most recent call last):") stays first
        total -= len(gone)
        dropped += len(gone)
    if dropped:
        parts.insert(1, say("traceback.cut_chars", n=f"{dropped:,}"))
    return parts


def _earlier(value: BaseException) -> list[tuple[BaseException, bool]]:
    """The exceptions that caused this one, or during whose handling it was raised (newest
    first, each with whether it was the direct cause), as Python shows them above it."""
    chain: list[tuple[BaseException, bool]] = []
    seen = {id(value)}
    while True:
        if value.__cause__ is not None:
            value, cause = value.__cause__, True
        elif value.__context__ is not None and not value.__suppress_context__:
            value, cause = value.__context__, False
        else:
            return chain
        if id(value) in seen:
            return chain
        seen.add(id(value))
        chain.append((value, cause))


EXPLANATION_STYLE = "\x1b[33m{}\x1b[0m"  # yellow, as the app shows its hints; notebooks draw it too


def explained_in_colour(value: BaseException, tb: types.TracebackType | None) -> str:
    """What engine.explain says under `value`'s traceback, in the kernel's language, at the width
    the learner's log has; '' for an error it has nothing to add to."""
    words = explained(value, tb, spoken(), display.columns)
    return EXPLANATION_STYLE.format(words) if words else ""


def install_explanations(ip) -> None:
    """In a notebook or IPython, where the traceback is IPython's own: the explanation of a tensor
    error as its last part (nothing changes for other errors)."""
    formatter = ip.InteractiveTB
    if getattr(formatter.structured_traceback, "explains", False):
        return
    structured = formatter.structured_traceback

    def structured_traceback(etype, evalue, etb=None, tb_offset=None, context=5):
        stb = structured(etype, evalue, etb, tb_offset, context)
        if isinstance(evalue, Exception) and not isinstance(evalue, (SyntaxError, UsageError)):
            explanation = explained_in_colour(evalue, etb if not isinstance(etb, tuple) else etb[0])
            if explanation:
                stb = [*stb, explanation]
        return stb

    structured_traceback.explains = True  # type: ignore[attr-defined]
    formatter.structured_traceback = structured_traceback


def install(ip) -> None:
    def shaped(shell, etype, value, tb, tb_offset, callers, walked=None) -> list[str]:
        """One exception's traceback, its earlier ones (cause, context) left to the caller: the
        user's frames, a repeated line three times and then counted, at most FRAMES_SHOWN.
        `walked`: what _user_frames already found for `tb`, so a deep traceback is walked once."""
        runs, hidden = walked if walked is not None else _user_frames(tb, callers)
        frames, notes = _shown(runs)
        short = _rebuilt(frames)
        earlier = (value.__cause__, value.__context__)
        value.__cause__ = value.__context__ = None  # formatted by show(), shaped as this one is
        try:
            if short is None:
                stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
                hidden, notes = 0, {}
            else:
                # IPython's frame that ran the cell, which its tb_offset skips, is gone from
                # `short`: skipping one more would drop the learner's first line
                stb = shell.InteractiveTB.structured_traceback(etype, value, short, tb_offset=0)
        finally:
            value.__cause__, value.__context__ = earlier
        # one part per frame, between the header and the exception's own line
        first = len(stb) - 1 - len(frames)
        if notes and first >= 1:
            stb = [part for i, entry in enumerate(stb)
                   for part in ((entry, notes[i - first]) if i - first in notes else (entry,))]
        if hidden:
            stb = [*stb[:-1], say("traceback.hidden" if hidden > 1 else "traceback.hidden_one", n=f"{hidden:,}"),
                   stb[-1]]
        return stb

    def chained(shell, older: BaseException, cause: bool) -> list[str]:
        """The line between an earlier exception's traceback and the next one's, as IPython words it."""
        words = getattr(shell.InteractiveTB, "prepare_chained_exception_message", None)
        if words is not None:
            return [str(part) for part in words(older if cause else None)[0]]

        return [traceback._cause_message if cause else traceback._context_message]  # type: ignore[attr-defined]

    def show(shell, etype, value, tb, tb_offset=None, callers=False):
        walked = None if issubclass(etype, UsageError) else _user_frames(tb, callers)
        explanation = ""
        if walked is None:  # a % command used wrongly: its message is all there is to say
            stb = [f"UsageError: {value}"]
        elif issubclass(etype, SyntaxError) and not walked[0]:
            # the cell itself does not parse: its line and the caret, as Python shows them, with
            # no frame of IPython's parser above them
            stb = shell.SyntaxTB.structured_traceback(etype, value, [])
            # and what went wrong in pasting it, if it was that: the cell as it was parsed is in
            # linecache under the error's file name (IPython puts it there before it compiles)
            source = "".join(linecache.getlines(value.filename)) if value.filename else ""
            try:
                pitfall = diagnose(source, value) if source else None
            except Exception:  # noqa: BLE001 - the traceback above is shown whatever happens here
                pitfall = None
            if pitfall is not None:
                explanation = EXPLANATION_STYLE.format(pitfall.words(spoken()))
        else:
            stb = shaped(shell, etype, value, tb, tb_offset, callers, walked)
            earlier = _earlier(value)
            for older, cause in earlier[:EARLIER_SHOWN]:
                stb = [*shaped(shell, type(older), older, older.__traceback__, 0, False),
                       *chained(shell, older, cause), *stb]
            if len(earlier) > EARLIER_SHOWN:
                stb.insert(0, say("traceback.cut_earlier", n=f"{len(earlier) - EARLIER_SHOWN:,}"))
            explanation = explained_in_colour(value, tb)
        stb = bounded(stb)
        if explanation:
            stb.append(explanation)  # after the bounds: the exception's own line stays above it
        publish = getattr(shell, "_showtraceback", None)  # what ipykernel sends as the error message
        if publish is not None:
            publish(etype, value, stb)
        else:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # %debug and %tb: all of it
        if sys.version_info >= (3, 12):
            sys.last_exc = value
        return stb

    # ctrl+c too: it lands wherever the cell waited (a DataLoader's queue, deep in multiprocessing)
    ip.set_custom_exc((Exception, KeyboardInterrupt), show)
    shown_by_ipython = ip.showtraceback

    def showtraceback(exc_tuple=None, filename=None, tb_offset=None, exception_only=False,
                      running_compiled_code=False):
        """IPython's, except for an exception it was handed (one its display formatter caught
        while showing a value, say): that one is shaped as a cell's error is. %tb, which asks for
        the last traceback, still gets all of it."""
        if exc_tuple is not None and not exception_only and isinstance(exc_tuple[1], (Exception, KeyboardInterrupt)):
            show(ip, *exc_tuple, tb_offset=tb_offset, callers=True)
            return
        shown_by_ipython(exc_tuple, filename, tb_offset, exception_only, running_compiled_code)

    ip.showtraceback = showtraceback
