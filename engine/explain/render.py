"""An explanation as the text that goes under a traceback: the failing line, a table of its
operands, and the hint, in the language asked for. Plain text, no wider than the operands need,
so that it reads the same in the Playground, in a notebook and in a terminal IPython."""

from __future__ import annotations

from engine.explain.model import Explanation, Operand
from engine.i18n import text
from engine.tensors import shape_text
from engine.textwrap_cjk import cell_width, wrap

EXPRESSION_CHARS = 28  # an operand's expression longer than this is cut, with "…"


def _expression(operand: Operand) -> str:
    words = " ".join(operand.expression.split())
    return words if len(words) <= EXPRESSION_CHARS else words[:EXPRESSION_CHARS - 1] + "…"


def _names(expression: str, name_in_model: str) -> bool:
    """Whether the expression already says where in the model the layer is (`model.fc2`,
    `model[2]`, `model.encoder[1]`)."""
    path = expression.replace("[", ".").replace("]", "").split(".")[1:]
    return ".".join(path) == name_in_model


def _facts(operand: Operand, lang: str) -> str:
    if not operand.looked_up:
        return text("explain.table.not_evaluated", lang)
    if not operand.is_tensor:
        facts = operand.kind
        if operand.name_in_model and not _names(operand.expression, operand.name_in_model):
            facts = text("explain.table.in_model", lang, name=operand.name_in_model, kind=facts)
        return facts
    parts = [shape_text(operand.shape or ()), operand.dtype.removeprefix("torch."), operand.device]
    if operand.requires_grad:
        parts.append("requires_grad")
    return "  ".join(parts)


def render(explanation: Explanation, lang: str = "en", width: int = 80) -> str:
    """The lines under the traceback, the hint's wrapped within `width` cells (Chinese too, which
    has no spaces to break at); '' when there is nothing to say beyond the traceback."""
    shown = [o for o in explanation.operands if o.is_tensor or o.kind or not o.looked_up]
    if not shown and explanation.hint is None:
        return ""
    lines = [text("explain.table.line", lang, line=explanation.site.line)] if explanation.site.line else []
    if shown:
        column = max(cell_width(_expression(o)) for o in shown)
        for operand in shown:
            name = _expression(operand)
            lines.append(f"  {name}{' ' * (column - cell_width(name))}  {_facts(operand, lang)}")
    if explanation.hint is not None:
        hint = text("explain.table.hint", lang, hint=explanation.hint.words(lang))
        lines += wrap(hint, max(20, width - 1))
    return "\n".join(lines)
