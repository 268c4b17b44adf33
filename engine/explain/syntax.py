"""A cell that does not parse because of how a block was pasted from notes: two statements run
together on one line (`print(data)data = torch.tensor(...)`, the line break lost), or a triple
quote left over from the notes' text at the end of a code line (`print(data)\"\"\"`).

`diagnose()` names the pitfall and its line; `fixed()` gives the source with every such line
mended, for the learner to review. Pure Python (ast only): the kernel and the app both import it.
"""

from __future__ import annotations

import ast

from engine.i18n import Said, said

QUOTES = ('"""', "'''")
MAX_STEPS = 100  # fixes in one source, each a line split or a quote removed (~0.85 s at MAX_SOURCE)
MAX_SOURCE = 20_000  # characters: a longer cell is not looked into (the app mends in its event loop)
MAX_LINE = 2_000  # longer lines are not split (each split point costs a parse)
MAX_PIECES = 8  # statements run together on one line
SHOWN = 32  # characters of a statement quoted in a diagnosis

_Pos = tuple[float, float]  # where the first error is: (line, column), or (inf, inf) for none
PARSES: _Pos = (float("inf"), float("inf"))


def _masked(line: str) -> str:
    """A line as the parser should see it: an IPython %magic or !command is a statement."""
    code = line.lstrip()
    if code.startswith(("%", "!")):
        return line[:len(line) - len(code)] + "pass"
    return line


def _error(lines: list[str]) -> _Pos:
    return _parsed(lines)[0]


def _parsed(lines: list[str]) -> tuple[_Pos, str]:
    """Where the first error is in `lines`, and Python's words for it."""
    try:
        ast.parse("\n".join(_masked(line) for line in lines))
    except SyntaxError as error:
        return (error.lineno or 0, error.offset or 0), error.msg
    except (ValueError, RecursionError, MemoryError):  # a NUL byte, nesting too deep: no parse
        return (0, 0), ""
    return PARSES, ""


def _statement(code: str) -> bool:
    """Whether `code` (one line, its indentation gone) is whole statements by itself."""
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return bool(code.strip())


def _pieces(lines: list[str], i: int, depth: int = 0) -> tuple[list[str], _Pos] | None:
    """Line `i` split into the statements run together in it: the split points tried are those
    where the line's start is a whole statement, and the rest goes on a line of its own with the
    same indentation. A split counts when the rest parses there too (or is split in turn): the
    first error, if any, is now on another line (one above it too: Python names an error of its
    tokenizer, `2print`, before a parser's error above it). The pieces and that error, mapped
    back to `lines`' numbering, of the split that gets the error furthest, in the fewest pieces."""
    line = lines[i]
    indent = line[:len(line) - len(line.lstrip())]
    code = line[len(indent):]
    if len(code) > MAX_LINE or depth > MAX_PIECES:
        return None
    best: tuple[list[str], _Pos] | None = None
    for p in range(1, len(code)):
        if code[p - 1].isspace() or _inside_name(code, p):
            continue
        first, rest = code[:p].rstrip(), code[p:].lstrip()
        if not rest or rest.startswith("#") or not _statement(first):
            continue
        trial = [*lines[:i], indent + first, indent + rest, *lines[i + 1:]]
        at = _error(trial)
        if at == PARSES or at[0] <= i:
            found = ([indent + first, indent + rest], at)
        elif at[0] > i + 2:
            found = ([indent + first, indent + rest], (at[0] - 1, at[1]))
        elif at[0] == i + 2:  # the rest holds more statements run together
            deeper = _pieces(trial, i + 1, depth + 1)
            if deeper is None:
                continue
            more, at = deeper
            found = ([indent + first, *more], at if at == PARSES or at[0] <= i else (at[0] - 1, at[1]))
        else:
            continue
        if best is None or (found[1], -len(found[0])) > (best[1], -len(best[0])):
            best = found
    return best


def _inside_name(code: str, p: int) -> bool:
    """Whether `p` falls inside a name (`pri|nt`); after a number it may not (`x*2|print(y)`)."""
    if not (code[p - 1].isalnum() or code[p - 1] == "_") or not (code[p].isalnum() or code[p] == "_"):
        return False
    start = p - 1
    while start > 0 and (code[start - 1].isalnum() or code[start - 1] == "_"):
        start -= 1
    return not code[start].isdigit()


def _unquoted(lines: list[str], i: int) -> str | None:
    """Line `i` without the triple quote it ends with, if code comes before that quote."""
    code = lines[i].rstrip()
    for quotes in QUOTES:
        if code.endswith(quotes) and code[:-3].strip() and not code[:-3].rstrip().endswith(QUOTES):
            return code[:-3].rstrip()
    return None


def _step(lines: list[str], start: _Pos) -> tuple[list[str], Said] | None:
    """One fix for the first error (at `start`): the split of its line or the removal of a stray
    triple quote (at its line or above, where a quote opened a string that runs on), whichever
    gets the first error furthest; the fixed lines and what was wrong."""
    row = int(start[0]) - 1
    if not 0 <= row < len(lines):
        return None
    best: tuple[list[str], _Pos, Said] | None = None
    pieces = _pieces(lines, row)
    if pieces is not None:
        new, at = pieces
        parts = [_short(piece.strip()) for piece in new]
        best = ([*lines[:row], *new, *lines[row + 1:]], at,
                said("explain.syntax.glued", line=row + 1, first=parts[0], second=parts[1]))
    for i in range(row, -1, -1):
        kept = _unquoted(lines, i)
        if kept is None:
            continue
        trial = [*lines[:i], kept, *lines[i + 1:]]
        at, words = _parsed(trial)
        # an error above the one Python named counts too (an unterminated string hid it), unless
        # the quote taken was one that closed a string, which now runs on
        onward = at > start or at < start and not words.startswith("unterminated")
        if onward and (best is None or at > best[1]):
            quotes = lines[i].rstrip()[-3:]
            best = (trial, at, said("explain.syntax.stray_quote", line=i + 1, quotes=quotes))
    return None if best is None else (best[0], best[2])


def _short(code: str) -> str:
    """A statement as a diagnosis quotes it: `data = torch.tensor(…)` for a long one."""
    if len(code) <= SHOWN:
        return code
    bracket = code.find("(")
    if 0 < bracket < SHOWN:
        return code[:bracket + 1] + "…)"
    return code[:SHOWN - 1] + "…"


def diagnose(source: str, error: SyntaxError) -> Said | None:
    """What went wrong in pasting `source`, which raised `error` when parsed: two statements on
    one line, or a stray triple quote, naming the line; None for any other syntax error."""
    if error.lineno is None or len(source) > MAX_SOURCE:
        return None
    lines = source.splitlines()
    found = _step(lines, (error.lineno, error.offset or 0))
    if found is None and _error(lines) != PARSES:  # (the error as this parser words it)
        found = _step(lines, _error(lines))
    return None if found is None else found[1]


def fixed(source: str) -> str | None:
    """`source` with its glued lines split and its stray triple quotes removed, one by one, until
    it parses or nothing more can be mended; None when nothing could be."""
    if len(source) > MAX_SOURCE:
        return None
    lines = source.splitlines()
    changed = False
    for _ in range(MAX_STEPS):
        start = _error(lines)
        if start == PARSES:
            break
        found = _step(lines, start)
        if found is None:
            break
        lines, changed = found[0], True
    if not changed:
        return None
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")
