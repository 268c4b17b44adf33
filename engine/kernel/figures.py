"""matplotlib in the kernel, as in a notebook: figures arrive as image/png display data (ipykernel's
inline backend), and a font that is not installed gives one short note instead of a warning for
every character of every title.

matplotlib logs `findfont: ... not found` each time it lays out text in a missing family, and
warns `Glyph N missing from font(s)` for each character it cannot draw. Both are held back here;
after the cell, one line on stderr names what was missing (once per session) and, when the machine
has a font that can draw Chinese, how to use it.
"""

from __future__ import annotations

import logging
import re
import sys
import warnings

from engine.i18n import said, say

FINDFONT = re.compile(r"findfont: .*?(?:families were found|Font family \[?)[: ]*['\"]?([^'\"\]\n]+)")
GLYPH = re.compile(r"Glyph \d+ .*missing from (?:current )?font")
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "AR PL UMing CN", "Droid Sans Fallback")


class FontNotes(logging.Filter):
    """Holds back matplotlib's font messages and remembers what they were about."""

    def __init__(self) -> None:
        super().__init__()
        self.families: set[str] = set()  # font families asked for and not installed
        self.glyphs = False  # a character could not be drawn with any font in use
        self.said: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith("findfont:"):
            return True
        found = FINDFONT.search(message)
        if found:
            self.families.update(name.strip() for name in found.group(1).split(",") if name.strip())
        return False

    def showwarning(self, original):
        def show(message, category, filename, lineno, file=None, line=None):
            if GLYPH.search(str(message)):
                self.glyphs = True
                return
            original(message, category, filename, lineno, file, line)
        return show

    def note(self) -> str:
        """The line to print after a cell (once per missing family), or ''."""
        families = sorted(self.families - self.said)
        glyphs = self.glyphs and "glyphs" not in self.said
        self.families.clear()
        self.glyphs = False
        if not families and not glyphs:
            return ""
        self.said.update(families)
        self.said.add("glyphs")

        what = said("figure.font_missing", fonts=", ".join(families)) if families else said("figure.no_glyphs")
        usable = installed_cjk_font()
        advice = said("figure.use_font", font=repr(usable)) if usable else said("figure.install_font")
        return say("figure.note", what=what, advice=advice)


def installed_cjk_font() -> str | None:
    """The name of an installed font that can draw Chinese, or None."""
    try:
        from matplotlib import font_manager  # (only for a Chinese figure: matplotlib takes a second)
    except ImportError:
        return None
    names = {font.name for font in font_manager.fontManager.ttflist}
    for wanted in CJK_FONTS:
        if wanted in names:
            return wanted
    return next((name for name in sorted(names) if "CJK" in name), None)


_NOTES: list[FontNotes] = []


def install(ip) -> None:
    """Hold back font messages in this process; say what was missing after each cell."""
    if _NOTES:
        return
    notes = FontNotes()
    _NOTES.append(notes)
    logging.getLogger("matplotlib.font_manager").addFilter(notes)
    warnings.showwarning = notes.showwarning(warnings.showwarning)

    def after(_result) -> None:
        line = notes.note()
        if line:
            print(line, file=sys.stderr)

    ip.events.register("post_run_cell", after)
