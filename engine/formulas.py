"""The chain-rule line for each step of backward: the op's local derivative, with the real numbers
when everything involved is a scalar. Ops not listed get their name and shapes, never a made-up formula.

One table, RULES: for each grad_fn (by name prefix) the catalog key of its words and, when the
saved values are numbers, the local derivative for each input as numbers (with how to show it, if
not as a number). The line itself is a Said: the screen words it in the reader's language.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.i18n import Said, said
from engine.tensors import fmt, shape_text

if TYPE_CHECKING:
    from engine.autograd import GraphNode

Local = float | str | None  # a local derivative: a number, a number in words ("2·(8 − 0)"), or unknown


@dataclass(frozen=True)
class Rule:
    words: Callable[[GraphNode], str] | str  # the catalog key of the rule's words (or how to pick it)
    locals: Callable[[GraphNode], list[Local] | None] | None = None

    def said(self, node: GraphNode) -> Said:
        return said(self.words(node) if callable(self.words) else self.words)


def _saved(node, key):
    for name, value in node.saved:
        if name == key:
            return getattr(value, "scalar", value)
    return None


def _num(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _alpha(node) -> float:
    alpha = _num(_saved(node, "alpha"))
    return 1.0 if alpha is None else alpha


def _mul(node):
    return [_num(_saved(node, "other")), _num(_saved(node, "self"))]


def _div(node):
    a, b = _num(_saved(node, "self")), _num(_saved(node, "other"))
    if b is None or b == 0:
        return None
    return [1 / b, -a / b**2 if a is not None else None]


def _pow_scalar_exponent(node):  # a ** n, n a number
    a, n = _num(_saved(node, "self")), _num(_saved(node, "exponent"))
    if a is None or n is None:
        return None
    try:
        return [n * a ** (n - 1)]
    except (ZeroDivisionError, OverflowError):
        return None


def _pow_tensors(node):  # a ** b, both tensors
    a, b, r = _num(_saved(node, "self")), _num(_saved(node, "exponent")), _num(_saved(node, "result"))
    if a is None or b is None or r is None:
        return None
    return [b * a ** (b - 1) if a else None, r * math.log(a) if a > 0 else None]


def _pow_scalar_base(node):  # c ** x, c a number
    c, r = _num(_saved(node, "self")), _num(_saved(node, "result"))
    if c is None or r is None or c <= 0:
        return None
    return [r * math.log(c)]


def _from_result(derivative):
    def local(node):
        r = _num(_saved(node, "result"))
        return [derivative(r)] if r is not None else None
    return local


def _mse_words(node) -> str:
    return "formula.MseLossBackward.sum" if _saved(node, "reduction") == 2 else "formula.MseLossBackward"


def _mse(node):
    a, y = _num(_saved(node, "self")), _num(_saved(node, "target"))
    if a is None or y is None:
        return None
    words = f"2·({fmt(a)} − {fmt(y)})"  # one element: n = 1 for the mean as for the sum
    return [words + f" = {fmt(2 * (a - y))}", f"−2·({fmt(a)} − {fmt(y)}) = {fmt(-2 * (a - y))}"]


def _ones(node):
    return [1.0]


RULES: dict[str, Rule] = {
    "AddBackward": Rule("formula.AddBackward",
                        lambda n: [1.0, _alpha(n)]),
    "SubBackward": Rule("formula.SubBackward", lambda n: [1.0, -_alpha(n)]),
    "RsubBackward0": Rule("formula.RsubBackward0", lambda n: [-_alpha(n), 1.0]),
    "RsubBackward1": Rule("formula.RsubBackward1", lambda n: [-_alpha(n)]),
    "MulBackward": Rule("formula.MulBackward", _mul),
    "DivBackward": Rule("formula.DivBackward", _div),
    "NegBackward": Rule("formula.NegBackward", lambda n: [-1.0]),
    "PowBackward0": Rule("formula.PowBackward0", _pow_scalar_exponent),
    "PowBackward1": Rule("formula.PowBackward1", _pow_tensors),
    "PowBackward2": Rule("formula.PowBackward2", _pow_scalar_base),
    "ExpBackward": Rule("formula.ExpBackward", _from_result(lambda r: r)),
    "LogBackward": Rule("formula.LogBackward",
                        lambda n: [1 / a] if (a := _num(_saved(n, "self"))) else None),
    "SqrtBackward": Rule("formula.SqrtBackward", _from_result(lambda r: 1 / (2 * r) if r else None)),
    "SumBackward": Rule("formula.SumBackward", _ones),
    "MeanBackward": Rule("formula.MeanBackward", _ones),
    "MmBackward": Rule("formula.MmBackward"),
    "MvBackward": Rule("formula.MvBackward"),
    "DotBackward": Rule("formula.DotBackward", _mul),
    "BmmBackward": Rule("formula.BmmBackward"),
    "MatmulBackward": Rule("formula.MatmulBackward"),
    "AddmmBackward": Rule("formula.AddmmBackward"),
    "TBackward": Rule("formula.TBackward", _ones),
    "TransposeBackward": Rule("formula.TransposeBackward", _ones),
    "PermuteBackward": Rule("formula.PermuteBackward", _ones),
    "ViewBackward": Rule("formula.ViewBackward", _ones),
    "ReshapeAliasBackward": Rule("formula.ReshapeAliasBackward", _ones),
    "UnsafeViewBackward": Rule("formula.UnsafeViewBackward", _ones),
    "ExpandBackward": Rule("formula.ExpandBackward", _ones),
    "ReluBackward": Rule("formula.ReluBackward",
                         _from_result(lambda r: 1.0 if r > 0 else 0.0)),
    "SigmoidBackward": Rule("formula.SigmoidBackward", _from_result(lambda r: r * (1 - r))),
    "TanhBackward": Rule("formula.TanhBackward", _from_result(lambda r: 1 - r * r)),
    "MseLossBackward": Rule(_mse_words, _mse),
}

# Longest prefix first, so that e.g. "PowBackward0" is found before a shorter prefix of it.
_PREFIXES = sorted(RULES, key=len, reverse=True)


def find(name: str) -> Rule | None:
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return RULES[prefix]
    return None


def rule(name: str) -> Said | None:
    """The words of an op's rule, when it has one (for nodes without saved values to read)."""
    found = find(name)
    return said(found.words) if found is not None and isinstance(found.words, str) else None


def formula_for(node, grad_in, grad_out, before=None, after=None) -> Said:
    """The step's explanation: local derivative, then `grad × local = result` for scalars."""
    if node.is_leaf:
        was = before.value if before is not None else "None"
        now = after.value if after is not None else "None"
        return said("formula.leaf", label=node.label, was=was, now=now)
    found = find(node.name)
    if found is None:
        shapes = ", ".join(shape_text(g.shape) if g is not None else "—" for g in grad_out)
        outputs = getattr(node, "outputs", ()) or (node.shape,)
        if len(outputs) > 1:
            return said("formula.unknown_outputs", name=node.name, outputs=", ".join(shape_text(o) for o in outputs),
                        shapes=shapes)
        return said("formula.unknown", name=node.name, output=shape_text(outputs[0]), shapes=shapes)
    words = found.said(node)
    incoming = grad_in[0] if grad_in else None
    locals_ = found.locals(node) if found.locals is not None else None
    if incoming is None or incoming.scalar is None or locals_ is None:
        return words
    parts = []
    for i, out in enumerate(grad_out):
        local = locals_[i] if i < len(locals_) else None
        if out is None or out.scalar is None or local is None:
            continue
        shown = local.split(" = ")[0] if isinstance(local, str) else fmt(local)
        parts.append(said("formula.input", n=i + 1, grad=fmt(incoming.scalar), local=shown, result=fmt(out.scalar)))
    return said("formula.with_numbers", rule=words, numbers=tuple(parts)) if parts else words
