"""engine/autograd.py and engine/gradcheck.py: recording backward() node by node, the forward view, the gradient check; torch is the oracle."""

from __future__ import annotations

import random
import warnings
from collections import deque

import pytest
import torch

from engine import autograd
from engine.autograd import HIDDEN, AutogradError, build_graph, forward_rows, record_backward
from engine.grad_examples import EXAMPLES
from engine.grad_text import walk_lines
from engine.gradcheck import gradient_check
from engine.kernel import inspections


def fired_order(loss):
    """The order torch's engine runs nodes, seen by our own pre-hooks."""
    order, handles, seen, queue = [], [], set(), [loss.grad_fn]
    while queue:
        fn = queue.pop()
        if fn in seen:
            continue
        seen.add(fn)
        handles.append(fn.register_prehook(lambda g, fn=fn: order.append(type(fn).__name__)))
        queue.extend(c for c, _ in fn.next_functions if c is not None)
    loss.backward()
    for h in handles:
        h.remove()
    return order


def snapshot(namespace: dict) -> dict:
    """Everything %autograd must not change about each tensor (and each module parameter)."""
    tensors = {k: v for k, v in namespace.items() if isinstance(v, torch.Tensor)}
    for name, value in namespace.items():
        if isinstance(value, torch.nn.Module):
            tensors.update({f"{name}.{p}": t for p, t in value.named_parameters()})
    state = {}
    for name, t in tensors.items():
        grad = t.grad if t.is_leaf or t.retains_grad else None
        state[name] = (t._version, id(grad), None if grad is None else grad.clone(), t.detach().clone(),
                       t.requires_grad, t.retains_grad, t.dtype)
    return state


def same(a, b) -> bool:
    """Bit-for-bit equal, also for sparse tensors (as dense) and meta tensors (shape and dtype)."""
    if a.is_meta or b.is_meta:
        return a.shape == b.shape and a.dtype == b.dtype
    if a.layout != torch.strided:
        a, b = a.to_dense(), b.to_dense()
    return torch.equal(a, b)


def assert_unchanged(before: dict, after: dict) -> None:
    assert before.keys() == after.keys()
    for name, (version, grad_id, grad, data, requires, retains, dtype) in before.items():
        v2, id2, g2, d2, r2, rt2, dt2 = after[name]
        assert version == v2, f"{name}._version {version} -> {v2}"
        assert grad_id == id2, f"{name}.grad is another object"
        assert (grad is None) == (g2 is None) and (grad is None or same(grad, g2)), f"{name}.grad changed"
        assert same(data, d2), f"{name} changed"
        assert (requires, retains, dtype) == (r2, rt2, dt2), name


def run(setup: str) -> dict:
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(setup, namespace)
    return namespace


def inspect(namespace: dict, expression: str):
    """%autograd EXPR and its gradient check, asserting that neither touched a tensor."""
    before = snapshot(namespace)
    inspection = inspections.from_expression(expression, namespace)
    assert_unchanged(before, snapshot(namespace))
    check = inspections.check(inspection.token) if inspection.forward is not None else None
    assert_unchanged(before, snapshot(namespace))
    return inspection, check


SHAPE = (3, 4)


# name -> (how many operands, function); every result has SHAPE
OPS = {
    "neg": (1, lambda a: -a),
    "exp": (1, lambda a: torch.exp(a * 0.3)),
    "tanh": (1, torch.tanh),
    "sigmoid": (1, torch.sigmoid),
    "relu": (1, torch.relu),
    "sin": (1, torch.sin),
    "cos": (1, torch.cos),
    "sqrt": (1, lambda a: torch.sqrt(a * a + 1)),
    "log": (1, lambda a: torch.log(a * a + 1)),
    "square": (1, lambda a: a ** 2),
    "cube": (1, lambda a: a.pow(3) * 0.1),
    "scalar_pow": (1, lambda a: 1.5 ** torch.tanh(a)),
    "softplus": (1, torch.nn.functional.softplus),
    "softmax": (1, lambda a: torch.softmax(a, dim=1)),
    "log_softmax": (1, lambda a: torch.log_softmax(a, dim=0)),
    "cumsum": (1, lambda a: torch.cumsum(a, dim=1) * 0.5),
    "transpose": (1, lambda a: a.t().contiguous().t()),
    "reshape": (1, lambda a: a.reshape(12).reshape(SHAPE)),
    "flip": (1, lambda a: a.flip(0)),
    "rsub": (1, lambda a: 1 - a),
    "div_scalar": (1, lambda a: a / 3),
    "clamp": (1, lambda a: a.clamp(-1, 1)),
    "mean_expand": (1, lambda a: a.mean(dim=1, keepdim=True).expand(SHAPE) + a),
    "max_dim": (1, lambda a: a.max(dim=1, keepdim=True).values * a),
    "split_cat": (1, lambda a: torch.cat(a.split([1, 3], dim=1)[::-1], dim=1)),
    "unbind_stack": (1, lambda a: torch.stack(a.unbind(0)[::-1])),
    "add": (2, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - 2 * b),
    "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (b * b + 1)),
    "maximum": (2, torch.maximum),
    "where": (2, lambda a, b: torch.where(a > b, a, b * 0.5)),
    "pow_tensors": (2, lambda a, b: (a * a + 1) ** torch.tanh(b)),
    "matmul": (3, lambda a, b, c: (a @ b.t() @ c) * 0.1),
    "mse": (2, lambda a, b: torch.nn.functional.mse_loss(a, b, reduction="none")),
}


def build(seed: int, leaves: dict | None = None):
    """A random graph: returns (loss, namespace, leaves). With `leaves` given, builds on those."""
    rng = random.Random(seed)
    generator = torch.Generator().manual_seed(seed)
    count = rng.randint(1, 4)  # drawn either way: the same seed gives the same graph
    if leaves is None:
        dtype = torch.float64 if seed % 3 == 0 else torch.float32
        leaves = {f"p{i}": torch.randn(SHAPE, generator=generator, dtype=dtype).requires_grad_()
                  for i in range(count)}
    pool = list(leaves.values())
    namespace: dict = dict(leaves)
    for step in range(rng.randint(3, 12)):
        name = rng.choice(sorted(OPS))
        arity, op = OPS[name]
        operands = [rng.choice(pool) for _ in range(arity)]
        result = op(*operands)
        pool.append(result)
        if rng.random() < 0.5:
            namespace[f"t{step}"] = result
    loss = sum(t.sum() * (i + 1) for i, t in enumerate(pool[-3:]))
    namespace["loss"] = loss
    return loss, namespace, leaves


def walk(root):
    """An independent breadth-first walk of next_functions: node names and edges."""
    order, index, queue = [], {}, deque([root.grad_fn])
    while queue:
        fn = queue.popleft()
        if fn in index:
            continue
        index[fn] = len(order)
        order.append(fn)
        queue.extend(child for child, _ in fn.next_functions if child is not None and child not in index)
    names = ["AccumulateGrad" if hasattr(fn, "variable") else type(fn).__name__ for fn in order]
    edges = [tuple((index[c] if c is not None else None, nr) for c, nr in fn.next_functions) for fn in order]
    return names, edges


def test_scalar_example_numbers():
    built = EXAMPLES["scalar"].build()
    rec = record_backward(built.root, built.namespace)
    assert rec.leaf_grads["w"].item() == 80.0
    assert rec.leaf_grads["b"].item() == 16.0
    mse = rec.steps[0]
    assert rec.graph.node(mse.node).name.startswith("MseLossBackward")
    assert mse.grad_out[0].scalar == 16.0
    assert "= 16" in mse.formula.words()
    mul = next(s for s in rec.steps if rec.graph.node(s.node).name.startswith("MulBackward"))
    assert "16 × 5 = 80" in mul.formula.words()
    leaf_w = next(s for s in rec.steps if rec.graph.node(s.node).label == "w")
    assert leaf_w.grad_before is None and leaf_w.grad_after.scalar == 80.0


@pytest.mark.parametrize("key", list(EXAMPLES))
def test_recorded_grads_equal_plain_backward(key):
    built = EXAMPLES[key].build()
    rec = record_backward(built.root, built.namespace, passes=built.passes)
    again = EXAMPLES[key].build()
    for _ in range(again.passes):
        again.root.backward(retain_graph=True)
    for name, leaf in again.leaves.items():
        assert torch.equal(rec.leaf_grads[name], leaf.grad), name


def test_recorded_order_is_the_order_hooks_fire():
    built = EXAMPLES["mlp"].build()
    rec = record_backward(built.root, built.namespace)
    names = [rec.graph.node(s.node).name for s in rec.steps]
    expected = fired_order(EXAMPLES["mlp"].build().root)
    assert [n.replace("torch::autograd::", "") for n in expected] == names


def test_accumulate_doubles_grad():
    built = EXAMPLES["accumulate"].build()
    rec = record_backward(built.root, built.namespace, passes=2)
    assert rec.leaf_grads["w"].item() == 160.0
    second = [s for s in rec.steps if s.backward_pass == 2 and rec.graph.node(s.node).label == "w"][0]
    assert second.grad_before.scalar == 80.0 and second.grad_after.scalar == 160.0


@pytest.mark.parametrize("key", ["scalar", "matrix", "mlp", "accumulate"])
def test_gradient_check_near_zero(key):
    built = EXAMPLES[key].build()
    rec = record_backward(built.root, built.namespace, passes=built.passes)
    check = gradient_check(built.forward, built.leaves, rec.leaf_grads, passes=built.passes)
    assert check.worst < 1e-4
    assert set(check.max_abs_error) == set(built.leaves)


def test_gradient_check_sees_paths_detach_hides():
    built = EXAMPLES["detach"].build()
    rec = record_backward(built.root, built.namespace)
    assert rec.leaf_grads["w"].item() == 30.0  # only the path through `a` counts: 2·a·x + a_cut
    assert gradient_check(built.forward, built.leaves, rec.leaf_grads).worst == pytest.approx(16.0, abs=1e-3)


def test_forward_view_explains_requires_grad():
    rows = {r.name: r for r in forward_rows(EXAMPLES["detach"].build().namespace)}
    assert rows["w"].requires_grad and "requires_grad=True" in rows["w"].why.words()
    assert rows["a"].grad_fn == "MulBackward0"
    assert not rows["a_cut"].requires_grad and "detach" in rows["a_cut"].why.words()
    assert not rows["frozen"].requires_grad and "no_grad" in rows["frozen"].why.words()


def test_graph_names_leaves_and_shapes():
    built = EXAMPLES["matrix"].build()
    graph, _ = build_graph(built.root, built.namespace)
    labels = {n.label for n in graph.leaves()}
    assert labels == {"w", "b"}
    assert graph.node(graph.root).label == "loss"
    mm = next(n for n in graph.nodes if n.name.startswith(("MmBackward", "AddmmBackward")))
    assert any(name in ("mat2", "self", "mat1") for name, _ in mm.saved)


def test_bad_inputs_have_clear_messages():
    with pytest.raises(AutogradError, match="no grad_fn"):
        record_backward(torch.ones(3).sum())
    with pytest.raises(AutogradError, match="leaf"):
        record_backward(torch.ones(2, requires_grad=True))
    with pytest.raises(AutogradError, match="expected a tensor"):
        record_backward(42)
    w = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(AutogradError, match="needs a scalar"):
        record_backward(w * 2)
    loss = (w * w).sum()
    loss.backward()
    with pytest.raises(AutogradError, match="already freed"):
        record_backward(loss)


def test_non_scalar_root_with_gradient_argument():
    w = torch.ones(2, requires_grad=True)
    rec = record_backward(w * 3, {"w": w}, gradient=torch.ones(2))
    assert rec.leaf_grads["w"].tolist() == [3.0, 3.0]


def test_huge_graph_is_capped_and_counted():
    from engine.autograd import MAX_NODES

    x = torch.ones((), requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0001
    graph, _ = build_graph(y, {"x": x})
    assert len(graph.nodes) == MAX_NODES
    assert graph.hidden == 3001 - MAX_NODES


def test_autograd_leaves_grads_and_retained_grads_alone():
    ns = run("w = torch.tensor([1., 2., 3.], requires_grad=True)\n(w * 2).sum().backward()\n"
             "h = w * 3\nh.retain_grad()")
    inspection, check = inspect(ns, "(w ** 2).sum()")
    assert ns["w"].grad.tolist() == [2.0, 2.0, 2.0]
    assert ns["h"].grad is None
    assert inspection.recording.leaf_grads["w"].tolist() == [2.0, 4.0, 6.0]  # this expression's own
    assert check.passed, check.lines()
    leaf = next(s for s in inspection.recording.steps if s.grad_after is not None)
    assert leaf.grad_before.value == "[2, 2, 2]" and leaf.grad_after.value == "[4, 6, 8]"
    assert "leaves w.grad as it is" in leaf.formula.words()
    inspect(ns, "(h ** 2).sum()")  # through a tensor that retains its grad


def test_gradient_check_works_on_copies():
    ns = run("x = torch.randn(4, dtype=torch.float64, requires_grad=True)\nloss = (x ** 3).sum()")
    _, check = inspect(ns, "(x ** 3).sum()")
    assert check.passed
    ns["loss"].backward()  # the learner's own backward still works: nothing was modified in place
    assert torch.allclose(ns["x"].grad, 3 * ns["x"].detach() ** 2)


def test_gradient_check_on_a_non_contiguous_leaf():
    ns = run("a = torch.randn(3, 2).t().detach().requires_grad_()")
    assert not ns["a"].is_contiguous()
    _, check = inspect(ns, "(a * a * torch.arange(3.)).sum()")
    assert check.passed and check.worst < 1e-6, check.lines()


def test_gradient_check_tolerance_is_per_element_and_stated():
    ns = run("v = torch.full((3,), 30.0, requires_grad=True)")
    _, check = inspect(ns, "(v ** 3).sum() * 1.4")
    assert check.passed, check.lines()
    line = check.lines()[0]
    assert line.startswith("v: 3 elements compared, largest error ") and "tolerance there" in line, line
    assert "float32 rounding" in line and "finite differences" in line and line.endswith("→ ok"), line
    assert 0 < check.tolerance["v"] < 3780.0 * 1e-4  # measured rounding, far below a blanket 1e-4 × |grad|
    ns = run("w = torch.ones(3, requires_grad=True)\ncut = w.detach()")
    _, check = inspect(ns, "(w * w).sum() + (w * cut.detach()).sum()")
    assert check.passed  # FD sees `cut` as the constant it is here: the recorded gradient agrees


def test_gradient_check_with_a_module_in_the_graph():
    ns = run("torch.manual_seed(0)\nmodel = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))\n"
             "x = torch.randn(5, 3)\ny = torch.randn(5, 1)")
    inspection, check = inspect(ns, "F.mse_loss(model(x), y)")
    labels = {n.label for n in inspection.recording.graph.leaves()}
    assert labels == {"model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"}
    assert check.passed, check.lines()
    assert ns["model"][0].weight.dtype == torch.float32


@pytest.mark.parametrize("setup,expression,skipped", [
    ("emb = nn.Embedding(10, 3, sparse=True)\nidx = torch.tensor([1, 2, 1])", "(emb(idx) ** 2).sum()", ""),
    ("z = torch.tensor([1+2j, 3-1j], requires_grad=True)", "(z * z.conj()).real.sum()", ""),
    ("m = torch.empty(3, device='meta', requires_grad=True)", "(m * 2).sum()", "meta"),
    ("s = torch.eye(3).to_sparse().requires_grad_()", "torch.sparse.sum(s * 2)", "sparse"),
])
def test_irregular_gradients_are_recorded_and_the_check_says_why_not(setup, expression, skipped):
    """A sparse gradient of a dense leaf and a complex leaf are checked; a sparse or meta leaf is not."""
    warnings.simplefilter("ignore")
    ns = run(setup)
    inspection, check = inspect(ns, expression)
    assert all(g is not None for g in inspection.recording.leaf_grads.values())
    assert "\n".join(walk_lines(inspection.recording))  # every step can be written out
    if skipped:
        assert any(skipped in why.words() for why in check.skipped.values()), check.skipped
    else:
        assert not check.skipped and check.passed and check.checked, check.lines()


def test_an_expression_torch_cannot_compute_is_a_sentence():
    warnings.simplefilter("ignore")
    ns = run("a = torch.ones(2, requires_grad=True)\nnt = torch.nested.nested_tensor([a, torch.ones(3)])")
    with pytest.raises(AutogradError, match="could not be computed: NotImplementedError"):
        inspections.from_expression("nt.sum()", ns)


def test_a_graph_torch_cannot_run_backward_on_is_a_sentence():
    ns = run("w = torch.ones(2, requires_grad=True)\nbad = (w * 2).sum()\nbad.backward()")
    with pytest.raises(AutogradError, match="already freed"):
        record_backward(ns["bad"], ns)


def test_two_leaves_never_share_a_label():
    ns = run("leaf1 = torch.tensor(2.0, requires_grad=True)\nloss = leaf1 * torch.tensor(3.0, requires_grad=True)")
    rec = record_backward(ns["loss"], ns)
    labels = [n.label for n in rec.graph.leaves()]
    assert sorted(labels) == ["leaf1", "leaf2"]
    assert rec.leaf_grads["leaf1"].item() == 3.0 and rec.leaf_grads["leaf2"].item() == 2.0


def test_multi_output_nodes_say_which_output_feeds_which_input():
    ns = run("x = torch.arange(6., requires_grad=True)\na, b = x.split([2, 4])\n"
             "loss = (a * 2).sum() + (b ** 2).sum()")
    text = "\n".join(walk_lines(record_backward(ns["loss"], ns)))
    assert "SplitWithSizesBackward0 (a, b) outputs (2,), (4,)" in text
    assert "to #5 SplitWithSizesBackward0 (a, b) [output 2 of 2, (4,)]: [4, 6, 8, 10]" in text
    assert "to #5 SplitWithSizesBackward0 (a, b) [output 1 of 2, (2,)]: [2, 2]" in text


def test_leaves_past_the_node_cap_keep_their_gradients(monkeypatch):
    monkeypatch.setattr(autograd, "MAX_NODES", 6)
    ns = run("ws = [torch.tensor(float(i), requires_grad=True) for i in range(6)]\n"
             "loss = sum(w * w for w in ws)")
    rec = record_backward(ns["loss"], ns)
    assert rec.graph.hidden > 0 and rec.graph.hidden_leaves
    assert len(rec.leaf_grads) == 6
    assert sorted(g.item() for g in rec.leaf_grads.values()) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    text = "\n".join(walk_lines(rec))
    assert ("inputs not drawn" in text or "input not drawn" in text) and "their leaves:" in text
    last_drawn = [n for n in rec.graph.nodes if autograd.HIDDEN in n.inputs]
    assert last_drawn and all(None not in n.inputs for n in last_drawn)  # not "without grad"


@pytest.mark.parametrize("seed", range(40))
def test_random_graph_matches_torch(seed):
    loss, namespace, leaves = build(seed)
    before = snapshot(namespace)
    rec = record_backward(loss, namespace)
    assert_unchanged(before, snapshot(namespace))

    fresh = {k: v.detach().clone().requires_grad_() for k, v in leaves.items()}
    plain_loss, _, _ = build(seed, fresh)
    plain_loss.backward()
    for name, leaf in fresh.items():
        if name not in rec.leaf_grads:  # not in the graph: plain backward leaves it alone too
            assert leaf.grad is None
            continue
        assert torch.equal(rec.leaf_grads[name], leaf.grad), (seed, name)
    assert set(rec.leaf_grads) <= set(leaves)

    graph = rec.graph
    names, edges = walk(loss)
    assert [n.name for n in graph.nodes] == names
    assert [tuple(zip(n.inputs, n.feeds, strict=True)) for n in graph.nodes] == \
        [tuple((c, nr if c is not None else 0) for c, nr in e) for e in edges]
    for step in rec.steps:
        node = graph.node(step.node)
        for i, grad in enumerate(step.grad_out):
            target = node.inputs[i]
            if grad is None or target in (None, HIDDEN):
                continue
            assert grad.shape == graph.node(target).outputs[node.feeds[i]], (seed, node.name, i)

    def forward(**_in_graph):  # the check finds the leaves by the tensors themselves
        return build(seed, dict(leaves))[0]

    in_graph = {k: v for k, v in leaves.items() if k in rec.leaf_grads}
    check = gradient_check(forward, in_graph, rec.leaf_grads, max_elements=4)
    assert check.passed and not check.skipped, (seed, check.lines())  # none puts a kink within eps
    assert_unchanged(before, snapshot(namespace))
