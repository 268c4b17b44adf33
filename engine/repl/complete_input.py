"""Whether typed code is a whole cell or needs more lines, as a REPL decides on Enter."""

from __future__ import annotations

import codeop


def is_complete(source: str) -> bool:
    """True when `source` can run as is; False when it needs more lines (`for i in range(3):`).
    Invalid code counts as complete, so that running it shows the syntax error."""
    if source.rstrip().rpartition("\n")[2].lstrip().startswith("%"):
        return True
    try:
        return codeop.compile_command(source, "<input>", "exec") is not None
    except (SyntaxError, ValueError, OverflowError):
        return True
