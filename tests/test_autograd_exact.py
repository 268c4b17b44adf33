"""The inspector is exact and hands off: checked against torch's own backward(), with the
learner's tensors compared bit for bit before and after every recording and gradient check."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest
import torch

from engine import autograd
from engine.autograd import AutogradError, record_backward
from engine.grad_examples import EXAMPLES, MATRIX, MLP
from engine.grad_text import walk_lines
from engine.i18n import text
from engine.kernel import inspections


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


def test_gradient_check_tolerance_is_relative_and_stated():
    ns = run("v = torch.full((3,), 30.0, requires_grad=True)")
    _, check = inspect(ns, "(v ** 3).sum() * 1.4")
    assert check.scale["v"] == pytest.approx(3780.0, rel=1e-3)
    assert check.passed, check.lines()
    assert "tolerance 3.8e-01 (1e-04 × largest |grad| 3.78e+03) → ok" in check.lines()[0]
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
    ("emb = nn.Embedding(10, 3, sparse=True)\nidx = torch.tensor([1, 2, 1])", "emb(idx).sum()", "sparse"),
    ("z = torch.tensor([1+2j, 3-1j], requires_grad=True)", "(z * z.conj()).real.sum()", "complex"),
    ("m = torch.empty(3, device='meta', requires_grad=True)", "(m * 2).sum()", "meta"),
    ("s = torch.eye(3).to_sparse().requires_grad_()", "torch.sparse.sum(s * 2)", "sparse"),
])
def test_irregular_gradients_are_recorded_and_the_check_says_why_not(setup, expression, skipped):
    warnings.simplefilter("ignore")
    ns = run(setup)
    inspection, check = inspect(ns, expression)
    assert all(g is not None for g in inspection.recording.leaf_grads.values())
    assert "\n".join(walk_lines(inspection.recording))  # every step can be written out
    assert any(skipped in text(why) for why in check.skipped.values()), check.skipped


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


@pytest.mark.parametrize("expression,expected", [
    ("2.0 ** x", ["∂(cˣ)/∂x = cˣ·ln c", "input 1: 1 × 5.545 = 5.545"]),
    ("b ** x", ["∂(aᵇ)/∂a = b·aᵇ⁻¹, ∂(aᵇ)/∂b = aᵇ·ln a", "input 1: 1 × 12 = 12; input 2: 1 × 5.545 = 5.545"]),
    ("5 - x", ["input 1: 1 × -1 = -1"]),
    ("torch.rsub(x, b)", ["input 1: 1 × -1 = -1; input 2: 1 × 1 = 1"]),
    ("F.mse_loss(x, b, reduction='sum')", ["Σ(a − y)²", "input 1: 1 × 2·(3 − 2) = 2"]),
    ("F.mse_loss(x, b)", ["mean((a − y)²)", "/n"]),
])
def test_formula_of_each_case(expression, expected):
    ns = run("x = torch.tensor(3.0, requires_grad=True)\nb = torch.tensor(2.0, requires_grad=True)")
    formula = record_backward(eval(expression, ns), ns).steps[0].formula.words()
    for piece in expected:
        assert piece in formula, formula
    assert ("/n" in formula) == ("reduction" not in expression and "mse" in expression)


@pytest.mark.parametrize("code,leaves", [(MATRIX, ("w", "b")), (MLP, ("w1", "b1", "w2", "b2"))])
def test_example_code_reproduces_its_numbers_in_plain_python(code, leaves):
    key = "matrix" if code is MATRIX else "mlp"
    rec = record_backward(EXAMPLES[key].build().root, EXAMPLES[key].build().namespace)
    program = ("import torch\nimport torch.nn.functional as F\n" + code + "\nloss.backward()\n"
               + "".join(f"print({name}.grad.tolist())\n" for name in leaves))
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    built = EXAMPLES[key].build()
    rec = record_backward(built.root, built.namespace)
    for name, line in zip(leaves, printed, strict=True):
        assert rec.leaf_grads[name].tolist() == eval(line), name


def test_grad_cli_explains_the_detach_difference():
    done = subprocess.run([sys.executable, "-m", "tui", "grad", "--example", "detach"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "DIFFERS" in done.stdout and "exactly the hidden paths" in done.stdout
    done = subprocess.run([sys.executable, "-m", "tui", "grad", "--example", "scalar"], capture_output=True,
                          text=True, timeout=120)
    assert "All gradients agree" in done.stdout and "→ ok" in done.stdout
