"""Which frames of a traceback are the learner's: code outside the installed libraries, the
standard library and the engine itself (whose live() and kernel plumbing a learner never wrote)."""

from __future__ import annotations

import os
import sysconfig

# the engine's own frames (live(), say) are plumbing too, wherever it is installed
ENGINE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
LIBRARY_ROOTS = tuple({sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
                      | {ENGINE_ROOT})


def is_library(filename: str) -> bool:
    return filename.startswith(LIBRARY_ROOTS) or filename.startswith("<frozen")
