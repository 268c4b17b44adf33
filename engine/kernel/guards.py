"""Names replaced in the kernels torchtui starts: exit() and help() as a terminal app needs them."""

from __future__ import annotations

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
    """help(obj) prints the text; help() alone would start an interactive pager."""
    if not args and not kwargs:
        print(say("guard.help"))
        return
    import pydoc

    try:
        text = pydoc.render_doc(args[0], renderer=pydoc.TextDoc())  # (plain text: no bold by backspacing)
    except (ImportError, pydoc.ErrorDuringImport) as exc:
        print(say("guard.no_help", thing=repr(args[0]), error=str(exc)))
        return
    print(text)


def replacements() -> dict:
    return {"exit": Quitter("exit"), "quit": Quitter("quit"), "help": help_text}
