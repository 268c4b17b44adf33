"""Line breaking for Chinese and mixed Chinese-Latin text, in terminal cells, without a UI.

Rich and Textual break lines at spaces only, which is right for English and wrong for Chinese:
a line of Chinese has no spaces, so the break falls at the space before a Latin word (leaving a
short line) or inside a word that is longer than the room left (`Lon` / `gTensor`). Here, as UAX #14
and the W3C's requirements for Chinese text layout ask:

- a line may break between any two ideographs, and between an ideograph and a Latin word;
- never before closing punctuation (`。，、；：！？）」』》`, their ASCII forms `.,;:!?)]}`, `…`)
  nor after opening punctuation (`（「『《`, `([{`);
- a Latin word (a run without spaces: `torch.DoubleTensor`, `print()`) stays whole, and so does a
  code span: text between backticks, or a call's brackets (`torch.tensor([1, 2, 3])`), whose
  inner spaces are broken at only when the span is wider than a whole line;
- a bullet (`• `, `- `) is never left alone: its item's later lines hang under its text.

Widths are terminal cells (rich.cells: an ideograph takes two). Only a word wider than a whole line
is cut, where it must be.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from rich.cells import get_character_cell_size

CLOSING = frozenset("。．，、；：！？）」』》〉】〕〗〙〛”’…‥・〜ー々" + ".,;:!?)]}%")
OPENING = frozenset("（「『《〈【〔〖〘〚“‘" + "([{")
BULLETS = ("• ", "- ")  # (not `* `: a paragraph may start with the operator)

# break classes of a character
SPACE, CLOSE, OPEN, IDEO, ALPHA = range(5)
# between two characters: no break, a break only if the span does not fit a line, a break
NEVER, LAST_RESORT, ALLOWED = 0, 1, 2


@lru_cache(maxsize=4096)
def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _class(ch: str) -> int:
    if ch == " " or ch == "\t" or ch == "\u3000":
        return SPACE
    if ch in CLOSING:
        return CLOSE
    if ch in OPENING:
        return OPEN
    return IDEO if _wide(ch) else ALPHA


def cell_width(text: str) -> int:
    return sum(get_character_cell_size(ch) for ch in text)


def _closers(text: str) -> list[int]:
    """For each opening bracket `([{` of `text`, the index of the bracket that brings the depth
    back to where it was (any of `)]}` closes any opener), else -1: one pass, with a stack."""
    match = [-1] * len(text)
    stack: list[int] = []
    for j, ch in enumerate(text):
        if ch in "([{":
            stack.append(j)
        elif ch in ")]}" and stack:
            match[stack.pop()] = j
    return match


def _code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the spans whose inner spaces are not break points: backtick spans, and the
    brackets of a call or an index (`f(a, b)`, `x[1, 2]`) that close within the paragraph, with
    no Chinese inside (prose in brackets is not code)."""
    spans = []
    i, n = 0, len(text)
    match: list[int] | None = None
    ideographs = [0]  # ideographs[k]: how many of text[:k] are ideographs
    while i < n:
        ch = text[i]
        if ch == "`":
            end = text.find("`", i + 1)
            if end > i:
                spans.append((i, end + 1))
                i = end + 1
                continue
        elif ch in "([" and i and _class(text[i - 1]) == ALPHA:
            if match is None:  # (computed once, the first time a bracket asks)
                match = _closers(text)
                for c in text:
                    ideographs.append(ideographs[-1] + (_class(c) == IDEO))
            j = match[i]
            if j > i and ideographs[j] == ideographs[i + 1]:
                spans.append((i, j + 1))
                i = j + 1
                continue
        i += 1
    return spans


def opportunities(text: str) -> list[int]:
    """For each position 1..len-1 (a break before text[i]; index 0 unused): NEVER, LAST_RESORT
    or ALLOWED."""
    n = len(text)
    cls = [_class(ch) for ch in text]
    for i, ch in enumerate(text):
        # an ASCII `.` that starts a word (`.double()`, `.../whl/cpu`) is part of the word
        if ch == "." and (i == 0 or cls[i - 1] == SPACE or _wide(text[i - 1])) \
                and i + 1 < n and cls[i + 1] in (ALPHA, CLOSE) and not _wide(text[i + 1]):
            cls[i] = ALPHA
    out = [NEVER] * (n + 1)
    for i in range(1, n):
        a, b = cls[i - 1], cls[i]
        if b == SPACE or b == CLOSE or a == OPEN:
            continue  # breaks come after spaces; nothing starts a line with a closer or ends one with an opener
        if a == SPACE:
            out[i] = ALLOWED
        elif a == IDEO or b == IDEO:
            out[i] = ALLOWED
        elif a == CLOSE and (_wide(text[i - 1]) or (i > 1 and cls[i - 2] == IDEO)):
            out[i] = ALLOWED  # after `。`, or a `,` that follows Chinese (not after `.` in `a.b`)
        elif b == OPEN and (_wide(text[i]) or (i + 1 < n and cls[i + 1] == IDEO)):
            out[i] = ALLOWED  # before `（`, or a `(` that opens Chinese (not before `(` in `print(`)
    for start, end in _code_spans(text):
        for i in range(start + 1, end):
            if out[i] == ALLOWED:
                out[i] = LAST_RESORT
    return out


def _marker(paragraph: str) -> int:
    """How many characters of a paragraph's start its later lines hang under: its indentation,
    and a bullet's mark and space."""
    stripped = paragraph.lstrip(" ")
    lead = len(paragraph) - len(stripped)
    for bullet in BULLETS:
        if stripped.startswith(bullet) and len(stripped) > len(bullet):
            return lead + len(bullet)
    return lead


def end_of(paragraph: str, stop: int, start: int) -> int:
    """The end of the line paragraph[start:stop] with its trailing spaces dropped."""
    end = stop
    while end > start and paragraph[end - 1] == " ":
        end -= 1
    return end


def break_paragraph(paragraph: str, width: int, hang: int | None = None) -> list[tuple[int, int, int]]:
    """Lines of one paragraph (no newlines) as (start, end, indent): the characters
    paragraph[start:end] shown after `indent` spaces. Later lines hang under the paragraph's
    first `hang` characters (by default: its indentation and bullet)."""
    n = len(paragraph)
    if n == 0:
        return [(0, 0, 0)]
    width = max(1, width)
    sizes = [get_character_cell_size(ch) for ch in paragraph]
    pre = [0]
    for s in sizes:
        pre.append(pre[-1] + s)
    opp = opportunities(paragraph)
    hang = _marker(paragraph) if hang is None else min(hang, n)
    hang_cells = pre[hang] if pre[hang] < width // 2 else 0
    for i in range(1, hang + 1):
        opp[i] = NEVER  # the bullet stays with the first word of its item
    opp[n] = ALLOWED
    lines: list[tuple[int, int, int]] = []
    start, indent = 0, 0
    while start < n:
        room = width - indent
        best = {ALLOWED: 0, LAST_RESORT: 0}
        end = start  # the line's end so far, its trailing spaces dropped (they take no room)
        for stop in range(start + 1, n + 1):
            if paragraph[stop - 1] != " ":
                end = stop
                if pre[end] - pre[start] > room:
                    break
            if opp[stop] != NEVER:
                best[ALLOWED if opp[stop] == ALLOWED else LAST_RESORT] = stop
        stop = best[ALLOWED]
        # a code span that would leave this line under half full is broken at its inner spaces
        if best[LAST_RESORT] > stop and (not stop or (pre[end_of(paragraph, stop, start)] - pre[start]) * 2 < room):
            stop = best[LAST_RESORT]
        if not stop:  # one word wider than the line: cut it where the line ends
            stop = start + 1
            while stop < n and pre[stop + 1] - pre[start] <= room:
                stop += 1
            while stop - start > 1 and stop < n and (paragraph[stop] in CLOSING or paragraph[stop - 1] in OPENING):
                stop -= 1  # and the next line does not start with its `)`, nor this one end with `(`
        lines.append((start, end_of(paragraph, stop, start), indent))
        start = stop
        while start < n and paragraph[start] == " ":
            start += 1
        indent = hang_cells
    if len(lines) > 1 and lines[-1][1] - lines[-1][0] == 1 and _class(paragraph[lines[-1][0]]) == IDEO:
        # one ideograph alone on the last line: the line above gives it a neighbour
        (s1, _, i1), (_, e2, i2) = lines[-2], lines[-1]
        for i in range(lines[-1][0] - 1, s1 + 1, -1):
            if opp[i] == ALLOWED and paragraph[i - 1] != " ":
                lines[-2:] = [(s1, i, i1), (i, e2, i2)]
                break
    return lines


def line_spans(text: str, width: int, hang: int | None = None) -> list[tuple[int, int, int]]:
    """Every line of `text` broken to `width` cells as (start, end, indent) into `text`; its own
    newlines end paragraphs."""
    out: list[tuple[int, int, int]] = []
    offset = 0
    for paragraph in text.split("\n"):
        out += [(offset + s, offset + e, indent) for s, e, indent in break_paragraph(paragraph, width, hang)]
        offset += len(paragraph) + 1
    return out


def wrap(text: str, width: int) -> list[str]:
    """`text` broken into lines of at most `width` cells (a word wider than that is cut)."""
    return [" " * indent + text[s:e] for s, e, indent in line_spans(text, width)]


def fill(text: str, width: int) -> str:
    return "\n".join(wrap(text, width))


def min_width(text: str) -> int:
    """The widest piece of `text` that no break point divides (its least width without cutting
    a word)."""
    widest = 0
    for paragraph in text.split("\n"):
        opp = opportunities(paragraph)
        start = 0
        for i in range(1, len(paragraph) + 1):
            if i == len(paragraph) or opp[i] == ALLOWED:
                widest = max(widest, cell_width(paragraph[start:i].strip(" ")))
                start = i
    return widest


def max_width(text: str) -> int:
    return max((cell_width(p) for p in text.split("\n")), default=0)


def widest(lines: Iterable[str]) -> int:
    return max((cell_width(line) for line in lines), default=0)
