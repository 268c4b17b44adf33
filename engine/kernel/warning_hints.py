"""Warnings that teach, in the kernel: a warning engine.explain.warnings rewords (a loss given a
target of another shape) shows as its words and hint in the kernel's language, in yellow like an
error's explanation, instead of Python's `site-packages/…/loss.py:610: UserWarning: …` and torch's
own source line. Every other warning shows as Python shows it."""

from __future__ import annotations

import sys
import warnings

from engine.explain.warnings import reworded
from engine.i18n import spoken
from engine.kernel.tracebacks import EXPLANATION_STYLE


def install() -> None:
    shown = warnings.showwarning
    if getattr(shown, "rewords", False):
        return

    def showwarning(message, category, filename, lineno, file=None, line=None):
        try:
            words = reworded(message, category, filename, lineno, spoken())
        except Exception:  # noqa: BLE001 - a warning must show, reworded or as it came
            words = None
        if words is None:
            shown(message, category, filename, lineno, file, line)
            return
        stream = file if file is not None else sys.stderr
        try:
            stream.write(EXPLANATION_STYLE.format(words) + "\n")
        except (OSError, ValueError):  # a closed stream: Python's own showwarning says nothing either
            pass

    showwarning.rewords = True  # type: ignore[attr-defined]
    warnings.showwarning = showwarning
