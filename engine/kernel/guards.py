"""Names replaced in the kernels torchtui starts: exit() and help() as a terminal app needs them."""

from __future__ import annotations


class Quitter:
    """exit()/quit() in a cell: the kernel keeps running and the user learns how to quit."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{self.name}() does not close torchtui: press ctrl+q to quit the app (F9 restarts the kernel)."

    def __call__(self, *args) -> None:
        print(repr(self))


def help_text(*args, **kwargs) -> None:
    """help(obj) prints the text; help() alone would start an interactive pager."""
    if not args and not kwargs:
        print("help() with no argument starts an interactive pager, which would take over the terminal.\n"
              "Ask about one thing instead, e.g. help(torch.cat), or write torch.cat? ;\n"
              "%help lists the Playground's own commands.")
        return
    import pydoc

    try:
        text = pydoc.render_doc(args[0], renderer=pydoc.plaintext)
    except (ImportError, pydoc.ErrorDuringImport) as exc:
        print(f"no help found for {args[0]!r}: {exc}")
        return
    print(text)


def replacements() -> dict:
    return {"exit": Quitter("exit"), "quit": Quitter("quit"), "help": help_text}
