"""The explanation of one error: its operands (engine.explain.operands) and its hint
(engine.explain.hints), or None for an error that is no tensor operation's."""

from __future__ import annotations

import types

from engine.explain import memory
from engine.explain.hints import hint_for
from engine.explain.model import Explanation, Operand, Site
from engine.explain.operands import explain_operands
from engine.explain.render import render

# what a tensor operation raises; a NameError or a KeyError beside a tensor is no tensor error
TENSOR_ERRORS = (RuntimeError, ValueError, IndexError, TypeError)


def explain(exc: BaseException, tb: types.TracebackType | None) -> Explanation | None:
    """What to say under `exc`'s traceback. Never raises: an explanation that fails is left out,
    and the traceback shows as it would without it."""
    try:
        found = explain_operands(exc, tb)
    except Exception:  # noqa: BLE001 - the learner's traceback must show whatever happens here
        found = None
    operands: tuple[Operand, ...] = found[1] if found is not None else ()
    try:
        hint = hint_for(exc, operands)
    except Exception:  # noqa: BLE001 - as above
        hint = None
    if hint is None and not (isinstance(exc, TENSOR_ERRORS) and any(o.is_tensor for o in operands)):
        return None
    site = found[0] if found is not None else Site("", 0, "")
    return Explanation(site, operands, hint)


def explained(exc: BaseException, tb: types.TracebackType | None, lang: str, width: int = 80) -> str:
    """The text to put under `exc`'s traceback in `lang`, lines within `width` cells; '' for an
    error there is nothing to add to. Never raises."""
    try:
        out_of_memory = memory.explained(exc, tb, lang, width)
        if out_of_memory:  # what was asked, what is held and by whom, what to try
            return out_of_memory
        explanation = explain(exc, tb)
        return render(explanation, lang, width) if explanation is not None else ""
    except Exception:  # noqa: BLE001 - the learner's traceback must show whatever happens here
        return ""
