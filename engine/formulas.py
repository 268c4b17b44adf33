"""The chain-rule line for each step of backward: the op's local derivative, with the real numbers
when everything involved is a scalar. Ops not listed get their name and shapes, never a made-up formula.

One table, RULES: for each grad_fn (by name prefix) the words and, when the saved values are
numbers, the local derivative for each input as numbers (with how to show it, if not as a number).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from engine.tensors import fmt, shape_text

Local = float | str | None  # a local derivative: a number, a number in words ("2·(8 − 0)"), or unknown


@dataclass(frozen=True)
class Rule:
    words: Callable[[object], str] | str
    locals: Callable[[object], list[Local] | None] | None = None

    def text(self, node) -> str:
        return self.words(node) if callable(self.words) else self.words


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
    reduction = _saved(node, "reduction")
    if reduction == 2:  # sum
        return "mse(reduction='sum') = Σ(a − y)²: ∂/∂a = 2(a − y), ∂/∂y = −2(a − y)"
    return "mse = mean((a − y)²): ∂mse/∂a = 2(a − y)/n, ∂mse/∂y = −2(a − y)/n"


def _mse(node):
    a, y = _num(_saved(node, "self")), _num(_saved(node, "target"))
    if a is None or y is None:
        return None
    words = f"2·({fmt(a)} − {fmt(y)})"  # one element: n = 1 for the mean as for the sum
    return [words + f" = {fmt(2 * (a - y))}", f"−2·({fmt(a)} − {fmt(y)}) = {fmt(-2 * (a - y))}"]


def _ones(node):
    return [1.0]


RULES: dict[str, Rule] = {
    "AddBackward": Rule("∂(a + b)/∂a = 1, ∂(a + b)/∂b = 1: the gradient passes through unchanged",
                        lambda n: [1.0, _alpha(n)]),
    "SubBackward": Rule("∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1", lambda n: [1.0, -_alpha(n)]),
    "RsubBackward0": Rule("rsub(a, b) = b − a: ∂/∂a = −1, ∂/∂b = 1", lambda n: [-_alpha(n), 1.0]),
    "RsubBackward1": Rule("c − a (c a number): ∂/∂a = −1", lambda n: [-_alpha(n)]),
    "MulBackward": Rule("∂(a·b)/∂a = b, ∂(a·b)/∂b = a", _mul),
    "DivBackward": Rule("∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²", _div),
    "NegBackward": Rule("∂(−a)/∂a = −1", lambda n: [-1.0]),
    "PowBackward0": Rule("∂(aⁿ)/∂a = n·aⁿ⁻¹", _pow_scalar_exponent),
    "PowBackward1": Rule("∂(aᵇ)/∂a = b·aᵇ⁻¹, ∂(aᵇ)/∂b = aᵇ·ln a", _pow_tensors),
    "PowBackward2": Rule("∂(cˣ)/∂x = cˣ·ln c", _pow_scalar_base),
    "ExpBackward": Rule("∂(eᵃ)/∂a = eᵃ (the result itself)", _from_result(lambda r: r)),
    "LogBackward": Rule("∂(ln a)/∂a = 1/a",
                        lambda n: [1 / a] if (a := _num(_saved(n, "self"))) else None),
    "SqrtBackward": Rule("∂(√a)/∂a = 1/(2√a)", _from_result(lambda r: 1 / (2 * r) if r else None)),
    "SumBackward": Rule("∂(Σa)/∂aᵢ = 1: the gradient is copied to every element", _ones),
    "MeanBackward": Rule("∂(mean a)/∂aᵢ = 1/n: the gradient is shared equally by the n elements", _ones),
    "MmBackward": Rule("∂(A@B)/∂A = grad @ Bᵀ, ∂(A@B)/∂B = Aᵀ @ grad"),
    "MvBackward": Rule("∂(A@v)/∂A = grad ⊗ v, ∂(A@v)/∂v = Aᵀ @ grad"),
    "DotBackward": Rule("∂(a·b)/∂a = b, ∂(a·b)/∂b = a (dot product)", _mul),
    "BmmBackward": Rule("∂(A@B)/∂A = grad @ Bᵀ, ∂(A@B)/∂B = Aᵀ @ grad, per batch"),
    "MatmulBackward": Rule("∂(A@B)/∂A = grad @ Bᵀ, ∂(A@B)/∂B = Aᵀ @ grad"),
    "AddmmBackward": Rule("addmm(b, A, B) = b + A@B: ∂/∂b = grad summed over rows, ∂/∂A = grad @ Bᵀ, "
                          "∂/∂B = Aᵀ @ grad"),
    "TBackward": Rule("transpose: the gradient is transposed back", _ones),
    "TransposeBackward": Rule("transpose: the gradient is transposed back", _ones),
    "PermuteBackward": Rule("permute: the gradient's dims are put back in the original order", _ones),
    "ViewBackward": Rule("view: the gradient is reshaped back to the input's shape", _ones),
    "ReshapeAliasBackward": Rule("reshape: the gradient is reshaped back to the input's shape", _ones),
    "UnsafeViewBackward": Rule("reshape: the gradient is reshaped back to the input's shape", _ones),
    "ExpandBackward": Rule("expand (broadcast): the gradient is summed over the broadcast dims", _ones),
    "ReluBackward": Rule("∂relu(a)/∂a = 1 where a > 0, else 0",
                         _from_result(lambda r: 1.0 if r > 0 else 0.0)),
    "SigmoidBackward": Rule("∂σ(a)/∂a = σ(a)·(1 − σ(a))", _from_result(lambda r: r * (1 - r))),
    "TanhBackward": Rule("∂tanh(a)/∂a = 1 − tanh²(a)", _from_result(lambda r: 1 - r * r)),
    "MseLossBackward": Rule(_mse_words, _mse),
}

# Longest prefix first, so that e.g. "PowBackward0" is found before a shorter prefix of it.
_PREFIXES = sorted(RULES, key=len, reverse=True)


def find(name: str) -> Rule | None:
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return RULES[prefix]
    return None


def rule(name: str) -> str | None:
    """The words of an op's rule, when it has one (for nodes without saved values to read)."""
    found = find(name)
    return found.words if found is not None and isinstance(found.words, str) else None


def formula_for(node, grad_in, grad_out, before=None, after=None) -> str:
    """The step's explanation: local derivative, then `grad × local = result` for scalars."""
    if node.is_leaf:
        was = before.value if before is not None else "None"
        now = after.value if after is not None else "None"
        return (f"leaf {node.label}: backward() adds the incoming gradient to .grad ({was} → {now}); "
                f"the inspector leaves {node.label}.grad as it is")
    found = find(node.name)
    if found is None:
        shapes = ", ".join(shape_text(g.shape) if g is not None else "—" for g in grad_out)
        outputs = getattr(node, "outputs", ()) or (node.shape,)
        made = ("outputs " + ", ".join(shape_text(o) for o in outputs)) if len(outputs) > 1 else \
            f"output {shape_text(outputs[0])}"
        return f"{node.name}: {made} → gradients for inputs {shapes}"
    text = found.text(node)
    incoming = grad_in[0] if grad_in else None
    locals_ = found.locals(node) if found.locals is not None else None
    if incoming is None or incoming.scalar is None or locals_ is None:
        return text
    parts = []
    for i, out in enumerate(grad_out):
        local = locals_[i] if i < len(locals_) else None
        if out is None or out.scalar is None or local is None:
            continue
        shown = local.split(" = ")[0] if isinstance(local, str) else fmt(local)
        parts.append(f"input {i + 1}: {fmt(incoming.scalar)} × {shown} = {fmt(out.scalar)}")
    return text + ("\n" + "; ".join(parts) if parts else "")
