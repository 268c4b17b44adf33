"""Warnings that teach: torch's warnings about a learner's mistake, reworded in the reader's
language instead of Python's `filename:lineno: UserWarning: …` (a path inside site-packages and
torch's own source line, which say nothing about the learner's code).

The one reworded now: a loss (MSELoss, L1Loss, …) given a target whose shape differs from the
output's, which broadcasting turns into a wrong loss without an error: the regression whose `y`
is (100,) against an output of (100, 1)."""

from __future__ import annotations

import linecache
import re

from engine.i18n import text
from engine.tensors import shape_text

_TARGET_SIZE = re.compile(r"Using a target size \(torch\.Size\(\[([\d, ]*)\]\)\) that is different to the input "
                          r"size \(torch\.Size\(\[([\d, ]*)\]\)\)")


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """The shape `a` and `b` broadcast to, or None where they do not."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y) if 1 not in (x, y) else x * y)
    return tuple(reversed(out))


_LOSSES = {"mse_loss": "MSELoss", "l1_loss": "L1Loss", "smooth_l1_loss": "SmoothL1Loss", "huber_loss": "HuberLoss"}


def _loss(filename: str, lineno: int) -> str | None:
    """The loss that warned, from torch's source around the warning's line: the class whose
    forward() it is (MSELoss, the warning's stacklevel points there), or the functional form's
    (mse_loss) class."""
    in_forward = False
    for n in range(lineno, max(lineno - 300, 0), -1):
        line = linecache.getline(filename, n)
        found = re.match(r"(\s*)def (\w+)\(", line)
        if found is not None and not in_forward:
            if found.group(1) and found.group(2) == "forward":
                in_forward = True
                continue
            return _LOSSES.get(found.group(2))
        found = re.match(r"class (\w+Loss)\b", line)
        if found is not None and in_forward:
            return found.group(1)
    return None


def reworded(message: Warning | str, category: type[Warning], filename: str, lineno: int, lang: str) -> str | None:
    """The words to show for a warning instead of Python's default, or None to show it as Python does."""
    if not issubclass(category, UserWarning):
        return None
    found = _TARGET_SIZE.search(str(message))
    if found is None or "broadcasting" not in str(message):
        return None
    target = tuple(int(s) for s in re.findall(r"\d+", found.group(1)))
    output = tuple(int(s) for s in re.findall(r"\d+", found.group(2)))
    values = {"target": shape_text(target), "output": shape_text(output),
              "loss": _loss(filename, lineno) or text("explain.warn.the_loss", lang)}
    result = _broadcast(target, output)
    if result is None:
        return text("explain.warn.target_size_plain", lang, **values)
    if len(output) == len(target) + 1 and output[-1] == 1 and output[:-1] == target:
        fixes = {"fix_target": "y.reshape(-1, 1)", "fix_output": f"output.squeeze({len(output) - 1})"}
    elif len(target) == len(output) + 1 and target[-1] == 1 and target[:-1] == output:
        fixes = {"fix_target": f"y.squeeze({len(target) - 1})", "fix_output": "output.reshape(-1, 1)"}
    else:
        return text("explain.warn.target_size_other", lang, result=shape_text(result), **values)
    return text("explain.warn.target_size", lang, result=shape_text(result), **values, **fixes)
