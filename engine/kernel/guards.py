"""Names replaced in the kernels torchtui starts: exit() and help() as a terminal app needs them."""

from __future__ import annotations

import pydoc
import sys

from engine.i18n import say


class Quitter:
    """exit()/quit() in a cell: the kernel keeps running and the user learns how to quit."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return say("guard.exit", name=self.name)

    def __call__(self, *args) -> None:
        print(repr(self))


def help_text(*args, **kwargs) -> None:
    """help(obj) prints what plain Python's help(obj) prints (pydoc.Helper, plain text: topics and
    keywords too); help() alone would start an interactive pager."""
    if (not args and not kwargs) or (args and isinstance(args[0], pydoc.Helper)):  # help(pydoc.help) pages too
        print(say("guard.help"))
        return
    # an explicit output: pydoc writes plain text there (no bold by backspacing), never a pager
    pydoc.Helper(output=sys.stdout).help(*args, **kwargs)


def replacements() -> dict:
    return {"exit": Quitter("exit"), "quit": Quitter("quit"), "help": help_text}


STREAMS = ("stdout", "stderr")


def _writable(stream: object) -> bool:
    return callable(getattr(stream, "write", None)) and callable(getattr(stream, "flush", None))


def stream_keeper():
    """A post_run_cell hook that puts the kernel's own sys.stdout/sys.stderr back when a cell
    left one that cannot be written to (`sys.stdout = None`): the kernel flushes both at the end
    of every cell, and would fail there, leaving the next cell waiting for ever. A file or any
    object that writes and flushes is the learner's choice, and stays."""
    own = {name: getattr(sys, name) for name in STREAMS}

    def keep(result=None) -> None:
        for name in STREAMS:
            left = getattr(sys, name)
            if not _writable(left) and _writable(own[name]):
                setattr(sys, name, own[name])
                shown = repr(left) if left is None else type(left).__name__
                print(say("guard.stream_restored", name=f"sys.{name}", value=shown), file=sys.stderr)

    return keep
