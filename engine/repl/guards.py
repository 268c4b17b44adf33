"""What would hang or kill a terminal app, made safe for code typed into the Playground."""

from __future__ import annotations

import builtins
import os
import threading
import time

from engine.repl.streams import NotInTorchtui

_kernel_threads: set[int] = set()
_real_sleep = time.sleep
_real_exit = os._exit


def register_kernel_thread(ident: int) -> None:
    _kernel_threads.add(ident)
    _install_process_guards()


def on_kernel_thread() -> bool:
    return threading.get_ident() in _kernel_threads


def _sleep(seconds: float) -> None:
    """time.sleep that can be interrupted on the kernel thread (it sleeps in short slices)."""
    if not on_kernel_thread():
        return _real_sleep(seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        _real_sleep(min(left, 0.02))


def _exit(status: int = 0) -> None:
    if on_kernel_thread():
        raise NotInTorchtui("os._exit() would kill torchtui and leave your terminal garbled: refused. "
                            "Press ctrl+q to quit.")
    _real_exit(status)


_installed = False


def _install_process_guards() -> None:
    global _installed
    if not _installed:
        import pdb

        real_set_trace = pdb.set_trace

        def set_trace(*args, **kwargs):
            if on_kernel_thread():
                _breakpoint()
            return real_set_trace(*args, **kwargs)

        pdb.set_trace = set_trace
        time.sleep = _sleep
        os._exit = _exit
        _installed = True


class _Quitter:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{self.name}() does not close torchtui's Playground: press ctrl+q to quit the app."

    def __call__(self, *args) -> None:
        print(repr(self))


def _help(*args, **kwargs) -> None:
    if not args and not kwargs:
        print("help() with no argument starts an interactive pager, which would take over the terminal.\n"
              "Ask about one thing instead, e.g. help(torch.cat) or help(torch.Tensor.view);\n"
              "%help lists the Playground's own commands.")
        return
    import pydoc

    try:
        text = pydoc.render_doc(args[0], renderer=pydoc.plaintext)
    except (ImportError, pydoc.ErrorDuringImport) as exc:
        print(f"no help found for {args[0]!r}: {exc}")
        return
    print(text)


def _breakpoint(*args, **kwargs) -> None:
    raise NotInTorchtui("breakpoint() and pdb need the terminal, which belongs to torchtui: refused. "
                        "Print the values you want to see instead.")


def _input(prompt: str = "") -> str:
    raise NotInTorchtui("input() cannot read from the terminal inside torchtui: the terminal belongs to the "
                        "app. Put the value in your code instead, e.g. name = 'Ada'")


def safe_builtins() -> dict:
    """A copy of builtins with the terminal-grabbing functions replaced."""
    table = dict(vars(builtins))
    table.update(input=_input, help=_help, breakpoint=_breakpoint, exit=_Quitter("exit"), quit=_Quitter("quit"))
    return table
