"""The autograd graph as data, and a real backward() recorded node by node, without a UI.

`build_graph(loss)` walks `grad_fn.next_functions` from a scalar and returns a Graph: function
nodes (MulBackward0, …), leaf nodes (AccumulateGrad, named from a namespace when given) and the
tensors each node saved for backward, read before backward frees them. `record_backward(loss)`
hooks every node (`register_prehook` fires in the engine's true execution order, `register_hook`
sees what the node sends to each input) and runs an ordinary backward, so the recorded leaf
gradients are exactly what `.grad` holds afterwards.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from engine.formulas import formula_for
from engine.tensors import TensorSummary, shape_text, short_repr, summarize

MAX_NODES = 400  # nodes kept for display; the rest are counted


class AutogradError(ValueError):
    """A tensor or graph the inspector cannot use; the message says why and what to do."""


@dataclass(frozen=True)
class TensorView:
    """A tensor as the inspector shows it: a compact value plus its summary."""

    value: str
    summary: TensorSummary
    scalar: float | None = None  # the number itself when the tensor has one element
    tensor: object = field(default=None, compare=False, repr=False)  # a detached copy, for full values

    @property
    def shape(self) -> tuple[int, ...]:
        return self.summary.shape


def full_values(t, limit: int = 10_000) -> str:
    """All values of a tensor (up to `limit` elements), formatted without touching torch's global
    print options, which other threads may be using."""
    import numpy as np

    data = t.detach().cpu()
    if data.dtype.is_floating_point and data.dtype != data.double().dtype:
        data = data.float()
    return np.array2string(data.numpy(), threshold=limit, max_line_width=76, precision=4,
                           suppress_small=True)


def view(t) -> TensorView | None:
    if t is None:
        return None
    scalar = float(t.detach().reshape(()).item()) if t.numel() == 1 else None
    return TensorView(short_repr(t), summarize(t), scalar, t.detach().clone())


@dataclass(frozen=True)
class GraphNode:
    """One node of the backward graph: a function (grad_fn) or a leaf (AccumulateGrad)."""

    id: int
    name: str  # grad_fn class name: "MulBackward0", "AccumulateGrad"
    label: str  # the variable name in the namespace, if any ("w", "loss")
    is_leaf: bool
    inputs: tuple[int | None, ...]  # node ids aligned with next_functions; None: input without grad
    shape: tuple[int, ...]
    dtype: str
    saved: tuple[tuple[str, object], ...] = ()  # (name, TensorView or plain value)

    def title(self) -> str:
        base = "AccumulateGrad" if self.is_leaf else self.name
        return f"{base} ({self.label})" if self.label else base


@dataclass(frozen=True)
class Graph:
    """The graph from a root down to its leaves; `hidden` counts nodes beyond MAX_NODES."""

    nodes: tuple[GraphNode, ...]
    root: int
    hidden: int = 0

    def node(self, node_id: int) -> GraphNode:
        return self.nodes[node_id]

    def leaves(self) -> list[GraphNode]:
        return [n for n in self.nodes if n.is_leaf]


@dataclass(frozen=True)
class Step:
    """One node running during backward: the gradient arriving and what it sends to each input."""

    index: int
    node: int
    grad_in: tuple[TensorView | None, ...]  # grad_outputs: the gradient w.r.t. this node's output
    grad_out: tuple[TensorView | None, ...]  # grad_inputs: sent to next_functions, aligned with inputs
    formula: str
    grad_before: TensorView | None = None  # leaves: .grad before this step
    grad_after: TensorView | None = None  # leaves: .grad after this step
    backward_pass: int = 1


@dataclass(frozen=True)
class Recording:
    """A graph and the steps of one or more backward passes over it, in execution order."""

    graph: Graph
    steps: tuple[Step, ...]
    leaf_grads: dict[str, object] = field(default_factory=dict)  # label -> final .grad tensor


FREED = ("this graph was already freed by an earlier backward(): compute the forward pass again, "
         "or call backward(retain_graph=True)")


def _is_freed_graph(exc: RuntimeError) -> bool:
    return "freed" in str(exc) or "second time" in str(exc)


def _labels(namespace: dict | None) -> tuple[dict[int, str], dict]:
    """Namespace names for tensors (by id, for leaves) and for their grad_fn (for results)."""
    import torch

    by_id: dict[int, str] = {}
    by_fn: dict = {}
    for name, value in (namespace or {}).items():
        if isinstance(value, torch.Tensor) and not name.startswith("_"):
            by_id.setdefault(id(value), name)
            if value.grad_fn is not None:
                by_fn.setdefault(value.grad_fn, name)
    return by_id, by_fn


def check_root(root, gradient=None):
    """Raise AutogradError with a learner-friendly message if backward cannot start from `root`."""
    import torch

    if not isinstance(root, torch.Tensor):
        raise AutogradError(f"expected a tensor, got {type(root).__name__}: autograd works on tensors")
    if root.grad_fn is None:
        if root.requires_grad:
            raise AutogradError("this tensor is a leaf (made by you, with requires_grad=True): it has no "
                                "graph above it. Compute something from it, e.g. loss = (w * 2).sum()")
        raise AutogradError("this tensor has no grad_fn: none of its inputs required grad, so no graph "
                            "was recorded. Create an input with requires_grad=True, then compute again")
    if root.numel() != 1 and gradient is None:
        raise AutogradError(f"backward() needs a scalar, but this tensor has shape {shape_text(root.shape)}: "
                            "reduce it first (.sum() or .mean()) or pass a gradient of the same shape")


def _saved_values(fn) -> tuple[tuple[str, object], ...]:
    import torch

    out = []
    for attr in dir(fn):
        if not attr.startswith("_saved_") or attr.endswith(("_sym_sizes", "_sym_strides")):
            continue
        try:
            value = getattr(fn, attr)
        except RuntimeError as exc:
            if _is_freed_graph(exc):
                raise AutogradError(FREED) from None
            continue
        name = attr.removeprefix("_saved_")
        if isinstance(value, torch.Tensor):
            out.append((name, view(value)))
        elif value is not None:
            out.append((name, value))
    return tuple(out)


def _walk(root):
    """Node objects reachable from root.grad_fn, breadth first, and the total count."""
    order, index = [], {}
    queue = deque([root.grad_fn])
    total = 0
    while queue:
        fn = queue.popleft()
        if fn in index:
            continue
        total += 1
        if len(order) < MAX_NODES:
            index[fn] = len(order)
            order.append(fn)
        else:
            index[fn] = None
        for child, _ in fn.next_functions:
            if child is not None and child not in index:
                queue.append(child)
    return order, index, total


def build_graph(root, namespace: dict | None = None, gradient=None) -> tuple[Graph, list]:
    """The Graph of `root`, plus the grad_fn objects in node order (to hook them)."""
    check_root(root, gradient)
    names, fn_names = _labels(namespace)
    order, index, total = _walk(root)
    nodes = []
    for i, fn in enumerate(order):
        variable = getattr(fn, "variable", None)
        is_leaf = variable is not None
        if is_leaf:
            label = names.get(id(variable), "")
            shape, dtype = tuple(variable.shape), str(variable.dtype).removeprefix("torch.")
        else:
            label = fn_names.get(fn, "")
            meta = fn._input_metadata[0] if getattr(fn, "_input_metadata", None) else None
            shape = tuple(meta.shape) if meta is not None else ()
            dtype = str(meta.dtype).removeprefix("torch.") if meta is not None else ""
        inputs = tuple(index.get(child) if child is not None else None for child, _ in fn.next_functions)
        saved = () if is_leaf else _saved_values(fn)
        nodes.append(GraphNode(i, type(fn).__name__ if not is_leaf else "AccumulateGrad", label, is_leaf,
                               inputs, shape, dtype, saved))
    _label_unnamed_leaves(nodes)
    return Graph(tuple(nodes), 0, hidden=total - len(order)), order


def _label_unnamed_leaves(nodes: list[GraphNode]) -> None:
    count = 0
    for i, n in enumerate(nodes):
        if n.is_leaf and not n.label:
            count += 1
            nodes[i] = GraphNode(n.id, n.name, f"leaf{count}", True, n.inputs, n.shape, n.dtype, n.saved)


def record_backward(root, namespace: dict | None = None, passes: int = 1, gradient=None,
                    keep: bool = False) -> Recording:
    """Run `passes` real backward passes from `root`, recording each node's step as it runs.

    With passes > 1 the graph is retained between passes and `.grad` accumulates, as it does in
    plain PyTorch when zero_grad() is forgotten. With keep=True the user's tensors are left as they
    were: the graph is retained and every leaf's `.grad` is put back afterwards.
    """
    graph, fns = build_graph(root, namespace, gradient)
    steps: list[Step] = []
    pending: dict[int, dict] = {}
    current_pass = [1]
    handles = []

    def pre(node_id, fn):
        def hook(grad_outputs):
            entry = {"grad_in": tuple(view(g) for g in grad_outputs)}
            variable = getattr(fn, "variable", None)
            if variable is not None:
                entry["before"] = view(variable.grad) if variable.grad is not None else None
            pending[node_id] = entry
        return hook

    def post(node_id, fn):
        def hook(grad_inputs, grad_outputs):
            entry = pending.pop(node_id, {"grad_in": tuple(view(g) for g in grad_outputs)})
            variable = getattr(fn, "variable", None)
            node = graph.node(node_id)
            grad_in = entry["grad_in"]
            if variable is not None:
                after = view(variable.grad) if variable.grad is not None else None
                grad_out: tuple = ()
                text = formula_for(node, grad_in, grad_out, entry.get("before"), after)
                steps.append(Step(len(steps), node_id, grad_in, grad_out, text,
                                  entry.get("before"), after, current_pass[0]))
            else:
                grad_out = tuple(view(g) for g in grad_inputs)
                text = formula_for(node, grad_in, grad_out)
                steps.append(Step(len(steps), node_id, grad_in, grad_out, text, backward_pass=current_pass[0]))
        return hook

    variables = [getattr(fn, "variable", None) for fn in fns]
    saved_grads = [v.grad for v in variables if v is not None] if keep else []
    for node_id, fn in enumerate(fns):
        handles.append(fn.register_prehook(pre(node_id, fn)))
        handles.append(fn.register_hook(post(node_id, fn)))
    try:
        for p in range(1, passes + 1):
            current_pass[0] = p
            try:
                root.backward(gradient=gradient, retain_graph=keep or p < passes)
            except RuntimeError as exc:
                if _is_freed_graph(exc):
                    raise AutogradError(FREED) from None
                raise
    finally:
        for h in handles:
            h.remove()
    leaf_grads = {}
    for node_id, variable in enumerate(variables):
        if variable is not None:
            leaf_grads[graph.node(node_id).label] = variable.grad
    if keep:
        leaf_grads = {k: v.clone() if v is not None else None for k, v in leaf_grads.items()}
        for variable, grad in zip([v for v in variables if v is not None], saved_grads, strict=True):
            variable.grad = grad
    return Recording(graph, tuple(steps), leaf_grads)


# --- forward view ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ForwardRow:
    """A named tensor in the forward pass and why it does or does not require grad."""

    name: str
    shape: tuple[int, ...]
    requires_grad: bool
    grad_fn: str | None
    why: str


def forward_rows(namespace: dict) -> list[ForwardRow]:
    """Each tensor in `namespace` (in definition order) with the reason for its requires_grad."""
    import torch

    rows = []
    for name, t in namespace.items():
        if not isinstance(t, torch.Tensor) or name.startswith("_"):
            continue
        if t.grad_fn is not None:
            why = f"made by {type(t.grad_fn).__name__} from an input that requires grad: it joins the graph"
        elif t.requires_grad:
            why = "a leaf created with requires_grad=True: backward() will fill its .grad"
        elif _shares_storage_with_graph(t, namespace):
            why = "cut from the graph by detach(): same numbers, but nothing flows back through it"
        else:
            why = "no grad: no input required grad, or it was computed under torch.no_grad()"
        rows.append(ForwardRow(name, tuple(t.shape), bool(t.requires_grad),
                               type(t.grad_fn).__name__ if t.grad_fn is not None else None, why))
    return rows


def _shares_storage_with_graph(t, namespace: dict) -> bool:
    """True when `t` shares storage with a tensor that requires grad (what detach() gives)."""
    import torch

    ptr = t.untyped_storage().data_ptr()
    return any(isinstance(o, torch.Tensor) and o is not t and o.requires_grad
               and o.untyped_storage().data_ptr() == ptr for o in namespace.values())


# --- gradient check -------------------------------------------------------------------------
@dataclass(frozen=True)
class GradCheck:
    """Each leaf's recorded gradient against central finite differences in float64."""

    max_abs_error: dict[str, float]
    checked: dict[str, int]  # how many elements were perturbed per leaf

    @property
    def worst(self) -> float:
        return max(self.max_abs_error.values(), default=0.0)


def gradient_check(forward, leaves: dict, recorded: dict, passes: int = 1, eps: float = 1e-6,
                   max_elements: int = 200) -> GradCheck:
    """Compare `recorded` leaf grads (summed over `passes` backward passes) with central finite
    differences of `forward(**leaves)` in float64.

    Perturbs at most `max_elements` elements per leaf (evenly spread) so a big leaf stays quick.
    Finite differences see every path, so a path hidden by detach() or no_grad() shows as an error.
    """
    import torch

    base = {k: v.detach().to(torch.float64) for k, v in leaves.items()}
    errors, counts = {}, {}
    with torch.no_grad():
        for name, value in base.items():
            grad = recorded.get(name)
            if grad is None:
                continue
            grad = grad.detach().to(torch.float64).reshape(-1) / passes
            flat = value.reshape(-1)
            step = max(1, flat.numel() // max_elements)
            idx = range(0, flat.numel(), step)
            worst = 0.0
            for i in idx:
                old = flat[i].item()
                flat[i] = old + eps
                up = float(forward(**base))
                flat[i] = old - eps
                down = float(forward(**base))
                flat[i] = old
                worst = max(worst, abs((up - down) / (2 * eps) - grad[i].item()))
            errors[name] = worst
            counts[name] = len(idx)
    return GradCheck(errors, counts)
