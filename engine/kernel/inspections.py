"""Recorded backward passes kept in the kernel for the Autograd screen: it gets each one as data
(graph, steps, forward rows) and asks for gradient checks and full values by token."""

from __future__ import annotations

import ast
import itertools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.kernel.bridge import RequestError

if TYPE_CHECKING:
    from torch import Tensor

    from engine.autograd import Recording

KEEP = 4  # recordings kept for the screen to ask about; older ones are let go


@dataclass
class Inspection:
    """One recording with what the gradient check needs (the forward function and the leaves)."""

    recording: Recording
    rows: tuple  # the forward view: each named tensor and why it does or does not require grad
    forward: Callable[..., Tensor] | None = None  # forward(**leaves) -> scalar, or None when it cannot be recomputed
    leaves: dict = field(default_factory=dict)
    passes: int = 1
    title: str = ""  # %autograd's expression; a built-in example's words are the app's (`example`)
    code: str = ""
    note: str = ""  # the catalog key of what a differing gradient check means here
    example: str = ""  # the built-in example's key
    token: int = 0

    def payload(self) -> dict:
        return {"token": self.token, "recording": self.recording, "forward_rows": self.rows,
                "passes": self.passes, "title": self.title, "code": self.code, "note": self.note,
                "example": self.example, "checkable": self.forward is not None}


_kept: OrderedDict[int, Inspection] = OrderedDict()
_tokens = itertools.count(1)


def keep(inspection: Inspection) -> Inspection:
    inspection.token = next(_tokens)
    _kept[inspection.token] = inspection
    while len(_kept) > KEEP:
        _kept.popitem(last=False)
    return inspection


def get(token: int) -> Inspection:
    try:
        return _kept[token]
    except KeyError:
        raise RequestError("err.request.recording_gone") from None


def from_example(key: str) -> Inspection:
    from engine.autograd import forward_rows, record_backward
    from engine.grad_examples import EXAMPLES

    if key not in EXAMPLES:
        raise RequestError("err.request.example", key=repr(key), keys=", ".join(EXAMPLES))
    example = EXAMPLES[key]
    built = example.build()
    rec = record_backward(built.root, built.namespace, passes=built.passes)
    return keep(Inspection(rec, tuple(forward_rows(built.namespace)), built.forward, built.leaves, built.passes,
                           "", built.code, example.check_note, example.key))


def from_expression(expression: str, namespace: dict) -> Inspection:
    """%autograd EXPR over the user's namespace; no tensor of theirs is changed (see
    engine.autograd.record_backward), and the gradient check works on float64 copies."""
    from engine.autograd import AutogradError, forward_rows, record_backward

    code = compile(expression, "<autograd>", "eval")
    try:
        root = eval(code, namespace)
    except Exception as exc:  # noqa: BLE001 - said in one sentence, as every refusal of %autograd is
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise AutogradError("err.autograd.eval", expression=expression, error=f"{type(exc).__name__}: {first}") from None
    recording = record_backward(root, namespace)
    labels = [n.label for n in recording.graph.leaves()] + [label for label, _ in recording.graph.hidden_leaves]
    leaves = {label: value for label in labels if (value := _leaf(label, namespace)) is not None}
    forward, note = None, ""
    if isinstance(ast.parse(expression, mode="eval").body, ast.Name):
        note = "ag.name_only_note"
    elif leaves:
        forward = _double_forward(code, expression, namespace, leaves)
        used = {node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)}
        if any(getattr(namespace.get(name), "grad_fn", None) is not None for name in used):
            note = "ag.intermediate_note"  # results of earlier cells are constants to the finite differences
    return keep(Inspection(recording, tuple(forward_rows(namespace)), forward, leaves, 1, f"%autograd {expression}", "", note))


def _leaf(label: str, namespace: dict):
    """The tensor a leaf's label names: a variable, or a module's parameter (`model.0.weight`)."""
    import torch

    value = namespace.get(label)
    if isinstance(value, torch.Tensor):
        return value
    owner, _, rest = label.partition(".")
    module = namespace.get(owner)
    if rest and isinstance(module, torch.nn.Module):
        return dict(module.named_parameters()).get(rest)
    return None


def _double_forward(code, expression: str, namespace: dict, leaves: dict):
    """forward(**leaves) recomputing the expression in float64: the tensors it names are cast, the
    modules it uses (or whose parameters are leaves) are copied and cast, so that nothing of the
    user's is written; a module's parameters are set in its copy for each evaluation."""
    import copy

    import torch

    used = {node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)}
    used |= {label.partition(".")[0] for label in leaves if "." in label}
    scope: dict = {}
    params: dict[str, torch.Tensor] = {}

    def prepare() -> None:  # on the first check only: a big model is not copied for nothing
        scope.update(namespace)
        for name in used:
            value = namespace.get(name)
            if isinstance(value, torch.Tensor) and value.is_floating_point() and name not in leaves:
                scope[name] = value.detach().double()
            elif isinstance(value, torch.nn.Module):
                twin = copy.deepcopy(value).double()
                scope[name] = twin
                for pname, param in twin.named_parameters():
                    params[f"{name}.{pname}"] = param

    def forward(**values):
        if not scope:
            prepare()
        with torch.no_grad():
            for label, value in values.items():
                if label in params:
                    params[label].copy_(value)
        return eval(code, {**scope, **{k: v for k, v in values.items() if k not in params}})

    return forward


def check(token: int):
    from engine.autograd import gradient_check

    inspection = get(token)
    if inspection.forward is None:
        raise RequestError("ag.check_unavailable")
    return gradient_check(inspection.forward, inspection.leaves, inspection.recording.leaf_grads,
                          passes=inspection.passes)


def values(token: int, index: int) -> list[dict]:
    """Every tensor of one step in full (bounded), each with its summary."""
    from engine.autograd import full_values

    inspection = get(token)
    steps = inspection.recording.steps
    if not 0 <= index < len(steps):
        raise RequestError("err.request.no_step", n=index + 1)
    step = steps[index]
    node = inspection.recording.graph.node(step.node)
    named: list[tuple[str, str, Any]] = [("grad_in", "", g) for g in step.grad_in]
    named += [("to", str(i + 1), g) for i, g in enumerate(step.grad_out)]
    named += [("after", node.label, step.grad_after)] if node.is_leaf else []
    named += [("saved", n, v) for n, v in node.saved if hasattr(v, "tensor")]
    return [{"kind": kind, "name": name, "summary": v.summary.line(), "values": full_values(v.tensor)}
            for kind, name, v in named if v is not None and v.tensor is not None]
