"""The chain-rule line for each step of backward: the op's local derivative, with the real numbers
when everything involved is a scalar. Ops not listed get their name and shapes, never a made-up formula."""

from __future__ import annotations

from engine.tensors import fmt, shape_text

# grad_fn name prefix -> (local derivative per input, in words)
RULES: dict[str, str] = {
    "AddBackward": "∂(a + b)/∂a = 1, ∂(a + b)/∂b = 1: the gradient passes through unchanged",
    "SubBackward": "∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1",
    "RsubBackward": "∂(b − a)/∂a = −1, ∂(b − a)/∂b = 1",
    "MulBackward": "∂(a·b)/∂a = b, ∂(a·b)/∂b = a",
    "DivBackward": "∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²",
    "NegBackward": "∂(−a)/∂a = −1",
    "PowBackward": "∂(aⁿ)/∂a = n·aⁿ⁻¹",
    "ExpBackward": "∂(eᵃ)/∂a = eᵃ (the result itself)",
    "LogBackward": "∂(ln a)/∂a = 1/a",
    "SqrtBackward": "∂(√a)/∂a = 1/(2√a)",
    "SumBackward": "∂(Σa)/∂aᵢ = 1: the gradient is copied to every element",
    "MeanBackward": "∂(mean a)/∂aᵢ = 1/n: the gradient is shared equally by the n elements",
    "MmBackward": "∂(A@B)/∂A = grad @ Bᵀ, ∂(A@B)/∂B = Aᵀ @ grad",
    "MvBackward": "∂(A@v)/∂A = grad ⊗ v, ∂(A@v)/∂v = Aᵀ @ grad",
    "DotBackward": "∂(a·b)/∂a = b, ∂(a·b)/∂b = a (dot product)",
    "BmmBackward": "∂(A@B)/∂A = grad @ Bᵀ, ∂(A@B)/∂B = Aᵀ @ grad, per batch",
    "MatmulBackward": "∂(A@B)/∂A = grad @ Bᵀ, ∂(A@B)/∂B = Aᵀ @ grad",
    "AddmmBackward": "addmm(b, A, B) = b + A@B: ∂/∂b = grad summed over rows, ∂/∂A = grad @ Bᵀ, ∂/∂B = Aᵀ @ grad",
    "TBackward": "transpose: the gradient is transposed back",
    "TransposeBackward": "transpose: the gradient is transposed back",
    "PermuteBackward": "permute: the gradient's dims are put back in the original order",
    "ViewBackward": "view: the gradient is reshaped back to the input's shape",
    "ReshapeAliasBackward": "reshape: the gradient is reshaped back to the input's shape",
    "UnsafeViewBackward": "reshape: the gradient is reshaped back to the input's shape",
    "ExpandBackward": "expand (broadcast): the gradient is summed over the broadcast dims",
    "ReluBackward": "∂relu(a)/∂a = 1 where a > 0, else 0",
    "SigmoidBackward": "∂σ(a)/∂a = σ(a)·(1 − σ(a))",
    "TanhBackward": "∂tanh(a)/∂a = 1 − tanh²(a)",
    "MseLossBackward": "mse = mean((a − y)²): ∂mse/∂a = 2(a − y)/n",
}


# Longest prefix first, so that e.g. "MmBackward" is not taken for a longer name it begins.
_PREFIXES = sorted(RULES, key=len, reverse=True)


def rule(name: str) -> str | None:
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return RULES[prefix]
    return None


def _saved(node, key):
    for name, value in node.saved:
        if name == key:
            return getattr(value, "scalar", value)
    return None


def _scalar_locals(node) -> list[float | None] | None:
    """The local derivative for each input as a number, when the saved values are scalars."""
    n = node.name
    a, b = _saved(node, "self"), _saved(node, "other")
    if n.startswith(("AddBackward", "SubBackward")):
        alpha = _saved(node, "alpha")
        alpha = 1.0 if alpha is None else float(alpha)
        return [1.0, alpha if n.startswith("Add") else -alpha]
    if n.startswith("MulBackward"):
        return [b, a]
    if n.startswith("DivBackward") and isinstance(b, float):
        return [1 / b, (-a / b**2) if isinstance(a, float) else None]
    if n.startswith("NegBackward"):
        return [-1.0]
    if n.startswith("PowBackward0"):
        e = _saved(node, "exponent")
        if isinstance(a, float) and isinstance(e, (int, float)):
            return [e * a ** (e - 1)]
    if n.startswith("ExpBackward"):
        return [_saved(node, "result")]
    if n.startswith("LogBackward") and isinstance(a, float):
        return [1 / a]
    if n.startswith("SqrtBackward"):
        r = _saved(node, "result")
        return [1 / (2 * r)] if isinstance(r, float) and r else None
    if n.startswith("SigmoidBackward"):
        r = _saved(node, "result")
        return [r * (1 - r)] if isinstance(r, float) else None
    if n.startswith("TanhBackward"):
        r = _saved(node, "result")
        return [1 - r * r] if isinstance(r, float) else None
    if n.startswith("ReluBackward"):
        r = _saved(node, "result")
        return [1.0 if r > 0 else 0.0] if isinstance(r, float) else None
    if n.startswith("MseLossBackward"):
        y = _saved(node, "target")
        if isinstance(a, float) and isinstance(y, float):
            return [2 * (a - y), -2 * (a - y)]
    if n.startswith(("SumBackward", "MeanBackward", "ViewBackward", "ReshapeAlias", "TBackward",
                     "ExpandBackward", "UnsafeViewBackward")):
        return [1.0]
    return None


def _mse_words(node) -> str:
    a, y = _saved(node, "self"), _saved(node, "target")
    if isinstance(a, float) and isinstance(y, float):
        return f" = 2·({fmt(a)} − {fmt(y)})"
    return ""


def formula_for(node, grad_in, grad_out, before=None, after=None) -> str:
    """The step's explanation: local derivative, then `grad × local = result` for scalars."""
    if node.is_leaf:
        was = before.value if before is not None else "None"
        now = after.value if after is not None else "None"
        return (f"leaf {node.label}: AccumulateGrad adds the incoming gradient to .grad "
                f"({was} → {now})")
    text = rule(node.name)
    if text is None:
        shapes = ", ".join(shape_text(g.shape) if g is not None else "—" for g in grad_out)
        return f"{node.name}: output {shape_text(node.shape)} → gradients for inputs {shapes}"
    incoming = grad_in[0] if grad_in else None
    locals_ = _scalar_locals(node)
    if incoming is None or incoming.scalar is None or locals_ is None:
        return text
    parts = []
    for i, out in enumerate(grad_out):
        if out is None or out.scalar is None:
            continue
        local = locals_[i] if i < len(locals_) else None
        if not isinstance(local, (int, float)):
            continue
        words = _mse_words(node) if node.name.startswith("MseLoss") and i == 0 else ""
        local_text = words.removeprefix(" = ") or fmt(local)
        parts.append(f"input {i + 1}: {fmt(incoming.scalar)} × {local_text} = {fmt(out.scalar)}")
    return text + ("\n" + "; ".join(parts) if parts else "")
