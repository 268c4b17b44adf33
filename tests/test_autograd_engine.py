import pytest
import torch

from engine.autograd import AutogradError, build_graph, forward_rows, gradient_check, record_backward
from engine.grad_examples import EXAMPLES


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
