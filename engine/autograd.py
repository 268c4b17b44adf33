"""The autograd graph as data, and a real backward() recorded node by node, without a UI.

`build_graph(loss)` walks `grad_fn.next_functions` from a scalar and returns a Graph: function
nodes (MulBackward0, …), leaf nodes (AccumulateGrad, named from a namespace when given) and the
tensors each node saved for backward, read before backward frees them. `record_backward(loss)`
hooks every node (`register_prehook` fires in the engine's true execution order, `register_hook`
sees what the node sends to each input) and runs an ordinary backward, so the recorded leaf
gradients are exactly what `.grad` holds afterwards. The finite-difference check of those
gradients is engine.gradcheck.
"""

from __future__ import annotations

import gc
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.formulas import formula_for
from engine.i18n import Said, SaidError, said, text
from engine.tensors import TensorSummary, regular, shape_text, short_repr, summarize

if TYPE_CHECKING:
    from torch import Tensor

MAX_NODES = 400  # nodes kept for display; the rest are counted


class AutogradError(SaidError, ValueError):
    """A tensor or graph the inspector cannot use; what it says is why and what to do."""


@dataclass(frozen=True)
class TensorView:
    """A tensor as the inspector shows it: a compact value plus its summary."""

    value: str
    summary: TensorSummary
    scalar: float | None = None  # the number itself when the tensor has one element
    tensor: Tensor | None = field(default=None, compare=False, repr=False)  # a detached copy, for full values

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

    dense = regular(t)
    scalar = None
    if dense and t.numel() == 1 and not t.is_complex():
        scalar = float(t.detach().reshape(()).float().item())
    return TensorView(short_repr(t), summarize(t), scalar, t.detach().clone() if dense else None)


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
    feeds: tuple[int, ...] = ()  # aligned with inputs: which output of that input node this edge is
    outputs: tuple[tuple[int, ...], ...] = ()  # the shape of each of this node's outputs

    def output_of(self, nr: int, lang: str = "en") -> str:
        """How an edge into this node reads: `output 2 of 3, (4,)` for a node of several outputs."""
        shape = self.outputs[nr] if nr < len(self.outputs) else self.shape
        if len(self.outputs) > 1:
            return text("graph.output_of", lang, n=nr + 1, count=len(self.outputs), shape=shape_text(shape))
        return shape_text(shape)

    def title(self) -> str:
        base = "AccumulateGrad" if self.is_leaf else self.name
        return f"{base} ({self.label})" if self.label else base


@dataclass(frozen=True)
class Graph:
    """The graph from a root down to its leaves; `hidden` counts nodes beyond MAX_NODES, whose
    leaves are still named (and their gradients recorded)."""

    nodes: tuple[GraphNode, ...]
    root: int
    hidden: int = 0
    hidden_leaves: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (label, shape) of leaves not drawn

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
    formula: Said
    grad_before: TensorView | None = None  # leaves: .grad before this step
    grad_after: TensorView | None = None  # leaves: .grad after this step
    backward_pass: int = 1


@dataclass(frozen=True)
class Recording:
    """A graph and the steps of one or more backward passes over it, in execution order."""

    graph: Graph
    steps: tuple[Step, ...]
    leaf_grads: dict[str, object] = field(default_factory=dict)  # label -> final .grad tensor
    # label -> the leaf tensor itself (stays in the kernel): the gradient check perturbs these objects
    leaf_tensors: dict[str, object] = field(default_factory=dict, compare=False, repr=False)


FREED = "err.autograd.freed"


def _is_freed_graph(exc: RuntimeError) -> bool:
    return "freed" in str(exc) or "second time" in str(exc)


def _labels(namespace: dict | None) -> tuple[dict[int, str], dict]:
    """Namespace names for tensors (by id, for leaves) and for their grad_fn (for results). A
    module's parameters are named through it: `model.0.weight`."""
    import torch

    by_id: dict[int, str] = {}
    by_fn: dict = {}
    for name, value in (namespace or {}).items():
        if name.startswith("_"):
            continue
        if isinstance(value, torch.Tensor):
            by_id.setdefault(id(value), name)
            if value.grad_fn is not None:
                by_fn.setdefault(value.grad_fn, []).append((value.output_nr, name))
        elif isinstance(value, torch.nn.Module):
            try:
                for pname, param in value.named_parameters():
                    by_id.setdefault(id(param), f"{name}.{pname}")
                for prefix, sub in value.named_modules():  # plain tensor attributes: `model.w`
                    for attr, held in vars(sub).items():
                        if isinstance(held, torch.Tensor) and not attr.startswith("_"):
                            by_id.setdefault(id(held), ".".join(p for p in (name, prefix, attr) if p))
            except Exception:  # a module whose parameters cannot be listed: left unnamed
                continue
    return by_id, by_fn


def check_root(root, gradient=None):
    """Raise AutogradError with a learner-friendly message if backward cannot start from `root`."""
    import torch

    if not isinstance(root, torch.Tensor):
        raise AutogradError("err.autograd.not_tensor", got=type(root).__name__)
    if root.grad_fn is None:
        if root.requires_grad:
            raise AutogradError("err.autograd.leaf")
        raise AutogradError("err.autograd.no_graph")
    if root.numel() != 1 and gradient is None:
        raise AutogradError("err.autograd.not_scalar", shape=shape_text(root.shape))


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
    """Node objects reachable from root.grad_fn, breadth first: the first MAX_NODES in order (with
    their index), and every leaf node (AccumulateGrad), also those past the cap."""
    order, index = [], {}
    leaves = []
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
            index[fn] = HIDDEN
        if getattr(fn, "variable", None) is not None:
            leaves.append(fn)
        for child, _ in fn.next_functions:
            if child is not None and child not in index:
                queue.append(child)
    return order, index, total, leaves


HIDDEN = -1  # in GraphNode.inputs: an input past the drawn nodes (it has a gradient, not drawn)


def build_graph(root, namespace: dict | None = None, gradient=None) -> tuple[Graph, list]:
    """The Graph of `root`, plus the grad_fn objects in node order (to hook them)."""
    graph, order, _leaves = _build(root, namespace, gradient)
    return graph, order


def _build(root, namespace, gradient):
    check_root(root, gradient)
    names, fn_names = _labels(namespace)
    order, index, total, leaf_fns = _walk(root)
    taken = set(names.values()) | set(namespace or ())
    unnamed = iter(f"leaf{i}" for i in range(1, 10**9) if f"leaf{i}" not in taken)
    leaf_labels = {fn: names.get(id(fn.variable)) or next(unnamed) for fn in leaf_fns}
    nodes = []
    for i, fn in enumerate(order):
        variable = getattr(fn, "variable", None)
        is_leaf = variable is not None
        metas = tuple(getattr(fn, "_input_metadata", ()) or ())
        if is_leaf:
            label = leaf_labels[fn]
            shape, dtype = _safe_shape(variable), str(variable.dtype).removeprefix("torch.")
            outputs: tuple = (shape,)
        else:
            outputs = tuple(_meta_shape(m) for m in metas)
            label = _result_label(fn_names.get(fn, []), len(outputs))
            shape = outputs[0] if outputs else ()
            dtype = str(metas[0].dtype).removeprefix("torch.") if metas else ""
        inputs = tuple(index.get(child) if child is not None else None for child, _ in fn.next_functions)
        feeds = tuple(nr for _, nr in fn.next_functions)
        saved = () if is_leaf else _saved_values(fn)
        nodes.append(GraphNode(i, type(fn).__name__ if not is_leaf else "AccumulateGrad", label, is_leaf,
                               inputs, shape, dtype, saved, feeds, outputs))
    hidden_leaves = tuple((leaf_labels[fn], _safe_shape(fn.variable)) for fn in leaf_fns if index[fn] == HIDDEN)
    graph = Graph(tuple(nodes), 0, hidden=total - len(order), hidden_leaves=hidden_leaves)
    return graph, order, [(fn, leaf_labels[fn], index[fn]) for fn in leaf_fns]


def _result_label(named: list[tuple[int, str]], outputs: int) -> str:
    """The name of a node's result; a node of several outputs (split) names each one it can."""
    if not named:
        return ""
    if outputs <= 1:
        return named[0][1]
    first: dict[int, str] = {}
    for nr, name in named:
        first.setdefault(nr, name)
    return ", ".join(first[nr] for nr in sorted(first))


def _safe_shape(t) -> tuple[int, ...]:
    try:
        return tuple(t.shape)
    except RuntimeError:  # nested
        return ()


def _meta_shape(meta) -> tuple[int, ...]:
    try:
        return tuple(meta.shape)
    except Exception:  # noqa: BLE001 - a nested or symbolic output
        return ()


def _retained(fns) -> list:
    """Non-leaf tensors of this graph that keep their .grad (retain_grad()): computing gradients
    fills it, so it is put back afterwards. Found among all live objects: they may be anywhere."""
    import torch

    graph_fns = set(fns)
    found = []
    for obj in gc.get_objects():
        if issubclass(type(obj), torch.Tensor):  # not isinstance: some lazy modules warn when asked
            try:
                if obj.retains_grad and obj.grad_fn in graph_fns:
                    found.append((obj, obj.grad))
            except Exception:  # noqa: BLE001 - a tensor subclass that cannot say
                continue
    return found


def _add(before, incoming):
    """What AccumulateGrad would make of .grad: the sum (or the incoming gradient, if none yet)."""
    if incoming is None:
        return before
    if before is None:
        return incoming.detach().clone()
    try:
        return before + incoming
    except RuntimeError:  # e.g. a dense .grad and a sparse gradient of another layout
        return incoming.detach().clone()


def record_backward(root, namespace: dict | None = None, passes: int = 1, gradient=None) -> Recording:
    """Record `passes` backward passes from `root`, node by node, without touching any tensor.

    The gradients are computed by the real engine (torch.autograd.grad, graph retained), with
    hooks on every drawn node seeing what it receives and sends. Leaves' .grad is not written:
    each leaf's step shows what backward() would accumulate there (passes > 1: what it would
    accumulate over the passes, as when zero_grad() is forgotten), and `leaf_grads` holds the
    gradients of this computation alone, summed over the passes. Tensors that retain_grad() get
    their .grad back as it was.
    """
    import torch

    graph, fns, leaf_info = _build(root, namespace, gradient)
    variables = [fn.variable for fn, _, _ in leaf_info]
    drawn_leaf = {node_id: k for k, (_, _, node_id) in enumerate(leaf_info) if node_id != HIDDEN}
    steps: list = []  # Step, or a leaf's place (k, node_id) filled once the pass is done
    pending: dict[int, tuple] = {}
    current_pass = [1]

    def pre(node_id):
        def hook(grad_outputs):
            pending[node_id] = tuple(view(g) for g in grad_outputs)
        return hook

    def post(node_id):
        node = graph.node(node_id)

        def hook(grad_inputs, grad_outputs):
            grad_in = pending.pop(node_id, None) or tuple(view(g) for g in grad_outputs)
            grad_out = tuple(view(g) for g in grad_inputs)
            steps.append(Step(len(steps), node_id, grad_in, grad_out, formula_for(node, grad_in, grad_out),
                              backward_pass=current_pass[0]))
            for child in node.inputs:
                if child in waiting:
                    waiting[child] -= 1
                    if waiting[child] == 0:  # the engine runs AccumulateGrad as soon as it is ready
                        steps.append((drawn_leaf[child], child))
        return hook

    feeders = {leaf: sum(n.inputs.count(leaf) for n in graph.nodes if not n.is_leaf) for leaf in drawn_leaf}
    retained = _retained([*fns, *(fn for fn, _, _ in leaf_info)])
    handles = []
    for node_id, fn in enumerate(fns):
        if getattr(fn, "variable", None) is None:
            handles.append(fn.register_prehook(pre(node_id)))
            handles.append(fn.register_hook(post(node_id)))
    grads_now = [v.grad for v in variables]  # what .grad holds, as backward() would find it
    totals: list = [None] * len(variables)
    try:
        for p in range(1, passes + 1):
            current_pass[0] = p
            waiting = dict(feeders)
            start = len(steps)
            try:
                grads = torch.autograd.grad(root, variables, grad_outputs=gradient, retain_graph=True,
                                            allow_unused=True)
            except (RuntimeError, NotImplementedError) as exc:
                if _is_freed_graph(exc):
                    raise AutogradError(FREED) from None
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise AutogradError("err.autograd.backward", error=first) from None
            for node_id, k in drawn_leaf.items():  # a leaf fed only by nodes past the cap
                if waiting.get(node_id):
                    steps.append((k, node_id))
            for i in range(start, len(steps)):
                if isinstance(steps[i], tuple):
                    k, node_id = steps[i]
                    node, incoming = graph.node(node_id), grads[k]
                    grad_in = (view(incoming),)
                    before, after = view(grads_now[k]), view(_add(grads_now[k], incoming))
                    steps[i] = Step(i, node_id, grad_in, (), formula_for(node, grad_in, (), before, after),
                                    before, after, p)
            for k, g in enumerate(grads):
                grads_now[k] = _add(grads_now[k], g)
                totals[k] = _add(totals[k], g)
    finally:
        for h in handles:
            h.remove()
        for tensor, grad in retained:
            tensor.grad = grad
    leaf_grads = {label: totals[k] for k, (_, label, _) in enumerate(leaf_info)}
    return Recording(graph, tuple(steps), leaf_grads, {label: fn.variable for fn, label, _ in leaf_info})


# --- forward view ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ForwardRow:
    """A named tensor in the forward pass and why it does or does not require grad."""

    name: str
    shape: tuple[int, ...]
    requires_grad: bool
    grad_fn: str | None
    why: Said


def forward_rows(namespace: dict) -> list[ForwardRow]:
    """Each tensor in `namespace` (in definition order) with the reason for its requires_grad."""
    import torch

    rows = []
    for name, t in namespace.items():
        if not isinstance(t, torch.Tensor) or name.startswith("_"):
            continue
        if t.grad_fn is not None:
            why = said("forward.joins", fn=type(t.grad_fn).__name__)
        elif t.requires_grad:
            why = said("forward.leaf")
        elif _shares_storage_with_graph(t, namespace):
            why = said("forward.detached")
        else:
            why = said("forward.no_grad")
        rows.append(ForwardRow(name, tuple(t.shape), bool(t.requires_grad),
                               type(t.grad_fn).__name__ if t.grad_fn is not None else None, why))
    return rows


def _shares_storage_with_graph(t, namespace: dict) -> bool:
    """True when `t` shares storage with a tensor that requires grad (what detach() gives)."""
    import torch

    ptr = t.untyped_storage().data_ptr()
    return any(isinstance(o, torch.Tensor) and o is not t and o.requires_grad
               and o.untyped_storage().data_ptr() == ptr for o in namespace.values())
