"""Recorded backward passes kept in the kernel for the Autograd screen: it gets each one as data
(graph, steps, forward rows) and asks for gradient checks and full values by token."""

from __future__ import annotations

import ast
import itertools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.autograd import AutogradError, forward_rows, full_values, record_backward
from engine.grad_examples import EXAMPLES
from engine.gradcheck import gradient_check, random_states
from engine.kernel.bridge import RequestError
from engine.protocol import Inspected, StepValues

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
    gradient: Tensor | None = None  # what backward() started from, for a non-scalar root
    random_state: dict | None = None  # the random states the recorded forward started from
    namespace: dict | None = None  # where %autograd's expression is re-run
    generators: tuple = ()

    def payload(self) -> Inspected:
        """What the app is told about it (the tensors and the forward stay here)."""
        return Inspected(self.token, self.recording, self.rows, self.passes, self.title, self.code, self.note,
                         self.example, checkable=self.forward is not None)


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
    if key not in EXAMPLES:
        raise RequestError("err.request.example", key=repr(key), keys=", ".join(EXAMPLES))
    example = EXAMPLES[key]
    built = example.build()
    rec = record_backward(built.root, built.namespace, passes=built.passes)
    return keep(Inspection(rec, tuple(forward_rows(built.namespace)), built.forward, built.leaves, built.passes,
                           "", built.code, example.check_note, example.key))


def from_expression(expression: str, namespace: dict) -> Inspection:
    """%autograd EXPR (or EXPR, GRADIENT for a non-scalar EXPR) over the user's namespace; no tensor
    of theirs is changed (see engine.autograd.record_backward), and the gradient check re-runs EXPR
    in float64 on copies (see engine.gradcheck.gradient_check)."""
    import torch

    source, gradient_source = _split(expression)
    code = compile(source, "<autograd>", "eval")
    generators = _generators(namespace)
    state = random_states(generators)  # what the check's re-runs start from
    root = _evaluate(code, source, namespace)
    gradient = None
    if gradient_source:
        gradient = _evaluate(compile(gradient_source, "<autograd>", "eval"), gradient_source, namespace)
        if not isinstance(gradient, torch.Tensor):
            raise AutogradError("err.autograd.gradient_type", gradient=gradient_source, got=type(gradient).__name__)
    try:
        recording = record_backward(root, namespace, gradient=gradient)
    except AutogradError as exc:
        if exc.said.code != "err.autograd.not_scalar":
            raise
        simple = isinstance(ast.parse(source, mode="eval").body, (ast.Name, ast.Attribute, ast.Call, ast.Subscript))
        raise AutogradError("err.autograd.not_scalar_expr", shape=exc.said.values["shape"], expression=source,
                            reduced=f"{source}.sum()" if simple else f"({source}).sum()") from None
    leaves = dict(recording.leaf_tensors)  # every leaf, named or not: the check says why of each it cannot do
    forward, note = None, ""
    if isinstance(ast.parse(source, mode="eval").body, ast.Name):
        note = "ag.name_only_note"
    elif leaves:
        def forward(**_leaves):  # the leaves are found by the tensors themselves (engine.gradcheck)
            return eval(code, namespace)  # noqa: S307 - the learner's own expression
    return keep(Inspection(recording, tuple(forward_rows(namespace)), forward, leaves, 1, f"%autograd {expression}",
                           "", note, gradient=gradient, random_state=state, namespace=namespace,
                           generators=generators))


def _split(expression: str) -> tuple[str, str]:
    """`EXPR, GRADIENT` -> (EXPR, GRADIENT); a single expression -> (it, "")."""
    stripped = expression.strip()
    try:
        body = ast.parse(stripped, mode="eval").body
    except SyntaxError:
        return expression, ""
    if isinstance(body, ast.Tuple) and len(body.elts) == 2:
        parts = [ast.get_source_segment(stripped, e) for e in body.elts]
        if parts[0] and parts[1]:
            return parts[0], parts[1]
    return expression, ""


def _evaluate(code, source: str, namespace: dict):
    try:
        return eval(code, namespace)  # noqa: S307 - the learner's own expression
    except Exception as exc:  # noqa: BLE001 - said in one sentence, as every refusal of %autograd is
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise AutogradError("err.autograd.eval", expression=source, error=f"{type(exc).__name__}: {first}") from None


def _generators(namespace: dict) -> tuple:
    """The torch.Generator objects the namespace holds: a forward may draw from them."""
    import torch

    return tuple(v for k, v in namespace.items() if not k.startswith("_") and isinstance(v, torch.Generator))


def check(token: int):
    import torch

    inspection = get(token)
    if inspection.forward is None:
        raise RequestError("ag.check_unavailable")
    namespace = inspection.namespace or {}
    names = {id(v): k for k, v in namespace.items() if not k.startswith("_") and isinstance(v, torch.Tensor)}
    modules = [v for k, v in namespace.items() if not k.startswith("_") and isinstance(v, torch.nn.Module)]
    return gradient_check(inspection.forward, inspection.leaves, inspection.recording.leaf_grads,
                          passes=inspection.passes, gradient=inspection.gradient,
                          random_state=inspection.random_state, names=names, modules=modules,
                          generators=inspection.generators)


def values(token: int, index: int) -> tuple[StepValues, ...]:
    """Every tensor of one step in full (bounded), each with its summary."""
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
    return tuple(StepValues(kind, name, v.summary.line(), full_values(v.tensor))
                 for kind, name, v in named if v is not None and v.tensor is not None)
