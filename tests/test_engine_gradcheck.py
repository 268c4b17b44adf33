"""The gradient check on real code (issue: a check you can trust): each case of the issue, with
torch.autograd.gradcheck in float64 and a hand-written central difference as the oracles, and a
property test over random graphs that share modules, call functions reading globals and make
tensors inside the expression."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from engine.autograd import record_backward
from engine.grad_examples import EXAMPLES
from engine.grad_text import walk_lines
from engine.gradcheck import gradient_check
from engine.kernel import inspections
from tests.test_engine_autograd import assert_unchanged, snapshot


def run(setup: str) -> dict:
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "np": np, "random": random}
    exec(setup, namespace)
    return namespace


def states() -> tuple:
    return (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())


def same_states(a, b) -> bool:
    return torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]


def checked(ns: dict, expression: str):
    """%autograd EXPR then g, asserting that no tensor and no random state of the learner's moved."""
    before, rng = snapshot(ns), states()
    inspection = inspections.from_expression(expression, ns)
    rng_after_recording = states()  # recording evaluates EXPR once, as running it would
    check = inspections.check(inspection.token)
    assert_unchanged(before, snapshot(ns))
    assert same_states(rng_after_recording, states()), "the check moved a random state"
    del rng
    return inspection, check


def central(f, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """A hand-written central difference of scalar f at x (float64), element by element."""
    x = x.detach().double().clone()
    out = torch.zeros_like(x)
    flat, res = x.view(-1), out.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        up = _number(f(x))
        flat[i] = old - eps
        down = _number(f(x))
        flat[i] = old
        res[i] = (up - down) / (2 * eps)
    return out


def _number(value) -> float:
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


SHARED = ("torch.manual_seed(0)\nshared = nn.Linear(8, 8)\n"
          "net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared)\nX = torch.randn(5, 4)")


def test_a_layer_reachable_under_two_names_is_perturbed_on_every_path():
    ns = run(SHARED)
    inspection, check = checked(ns, "net(X).sum()")
    assert check.verdicts == {k: "ok" for k in inspection.leaves}, check.lines()
    net, shared, X = ns["net"], ns["shared"], ns["X"]
    first = net[0]

    def f(w):  # the oracle: the same net as a float64 function of shared.weight
        h = torch.relu(X.double() @ first.weight.double().t() + first.bias.double())
        h = torch.relu(h @ w.t() + shared.bias.double())
        return (h @ w.t() + shared.bias.double()).sum()

    w = shared.weight.detach().double().requires_grad_()
    assert torch.autograd.gradcheck(f, (w,))
    recorded = inspection.recording.leaf_grads["shared.weight"]
    assert torch.allclose(recorded.double(), central(f, w), atol=1e-4)
    assert recorded.abs().max() > 0.1  # finite differences of 0 (the old copy-per-name) would differ


@pytest.mark.parametrize("setup,expression,leaf,oracle", [
    ("torch.manual_seed(0)\nW1 = torch.randn(4, 3, requires_grad=True)\nX = torch.randn(5, 4)\n"
     "def net(X):\n    return torch.relu(X @ W1)", "net(X).pow(2).sum()", "W1",
     lambda ns, t: torch.relu(ns["X"].double() @ t).pow(2).sum()),
    ("torch.manual_seed(0)\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
     "        self.w = torch.randn(3, 2, requires_grad=True)\n    def forward(self, x):\n"
     "        return torch.tanh(x @ self.w)\nm = M()\nX = torch.randn(4, 3)", "m(X).pow(2).sum()", "m.w",
     lambda ns, t: torch.tanh(ns["X"].double() @ t).pow(2).sum()),
    ("torch.manual_seed(0)\nsrc = torch.randn(3, 2, requires_grad=True)\nidx = torch.tensor([[0, 4], [1, 2], [3, 3]])",
     "(torch.zeros(3, 5).scatter_add(1, idx, src) ** 2).sum()", "src",
     lambda ns, t: (torch.zeros(3, 5, dtype=torch.float64).scatter_add(1, ns["idx"], t) ** 2).sum()),
])
def test_tensors_the_old_re_evaluation_did_not_reach_are_checked(setup, expression, leaf, oracle):
    """A global read by a function, a module's plain tensor attribute, a tensor made inside the
    expression: float32 all, re-run in float64 without a dtype error, perturbed where they are used."""
    ns = run(setup)
    inspection, check = checked(ns, expression)
    assert check.verdicts == {leaf: "ok"}, check.lines()
    assert "float32 rounding" in check.lines()[0]
    value = inspection.leaves[leaf].detach().double().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: oracle(ns, t), (value,))
    recorded = inspection.recording.leaf_grads[leaf].double()
    assert torch.allclose(recorded, central(lambda t: oracle(ns, t), value), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("expression", [
    "torch.nn.functional.layer_norm(x, (6,)).sum() * 100",
    "torch.log_softmax(x, 1).exp().sum() * 1000",
])
def test_a_gradient_zero_up_to_float32_rounding_agrees(expression):
    ns = run("torch.manual_seed(0)\nx = torch.randn(4, 6, requires_grad=True)")
    inspection, check = checked(ns, expression)
    recorded = inspection.recording.leaf_grads["x"]
    x64 = ns["x"].detach().double().requires_grad_()
    f = lambda t: eval(expression, {**ns, "x": t})  # noqa: E731
    assert torch.autograd.gradcheck(f, (x64,))
    exact = torch.autograd.grad(f(x64), [x64])[0]
    assert exact.abs().max() < 1e-12  # the true gradient is zero ...
    assert recorded.abs().max() > 1e-5  # ... and float32 rounding leaves more than the old 1e-6 tolerance
    assert check.verdicts == {"x": "ok"}, check.lines()


def test_nan_in_the_gradient_is_named_on_the_line():
    ns = run("xs = torch.tensor([1., -2., 3., 4.], requires_grad=True)")
    inspection, check = checked(ns, "torch.sqrt(xs).nan_to_num().sum()")
    assert torch.isnan(inspection.recording.leaf_grads["xs"][1])
    fd = central(lambda t: torch.sqrt(t).nan_to_num().sum(), ns["xs"])
    assert fd[1] == 0  # the function is flat there: torch's NaN is not its derivative
    lines = "\n".join(check.lines())
    assert "the recorded gradient holds NaN at 1 of the 4 elements compared" in lines, lines
    assert "at [1] the recorded gradient is nan, the finite differences 0" in lines
    assert check.verdicts == {"xs": "differs"} and "nan" not in lines.split("\n")[0].split("tolerance")[1]


def test_a_kink_within_the_step_is_said():
    ns = run("w = torch.tensor([1., 0., -1.], requires_grad=True)")
    _, check = checked(ns, "torch.relu(w).sum()")
    assert check.passed, check.lines()
    assert any("at [1] the function has a kink within the step (slope 0 on the left, 1 on the right)" in line
               for line in check.lines()), check.lines()


@pytest.mark.parametrize("setup,expression", [
    ("torch.manual_seed(0)\nnet = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 1))\n"
     "X = torch.randn(8, 4)", "net(X).sum()"),
    ("torch.manual_seed(0)\nclass DynamicNet(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
     "        self.a = nn.Parameter(torch.randn(()))\n        self.b = nn.Parameter(torch.randn(()))\n"
     "        self.e = nn.Parameter(torch.randn(()))\n    def forward(self, x):\n"
     "        y = self.a + self.b * x\n        for exp in range(2, random.randint(2, 6)):\n"
     "            y = y + self.e * x ** exp\n        return y\nmodel = DynamicNet()\nxs = torch.linspace(-1, 1, 7)\n"
     "random.seed(3)", "model(xs).pow(2).sum()"),
    ("np.random.seed(0)\nw = torch.ones(4, requires_grad=True)", "(w * torch.from_numpy(np.random.rand(4))).sum()"),
])
def test_a_random_forward_is_re_run_from_its_recorded_state_and_the_learners_states_stay(setup, expression):
    setup = "torch.manual_seed(0)\nrandom.seed(0)\nnp.random.seed(0)\n" + setup  # every state known
    ns = run(setup)
    _, check = checked(ns, expression)
    assert check.passed and not check.skipped, check.lines()
    assert "The forward draws random numbers" in "\n".join(check.lines())
    after_check = torch.rand(3), random.random(), np.random.rand()
    plain = run(setup)  # the same cells without the inspector: the next draws are the same
    eval(expression, plain)
    assert torch.equal(after_check[0], torch.rand(3))
    assert after_check[1:] == (random.random(), np.random.rand())


def test_a_forward_that_rebinds_a_buffer_of_many_elements_is_checked_and_the_buffer_put_back():
    """`self.ema = self.ema * 0.9 + ...` rebinds a registered buffer on every forward: the check
    completes, and afterwards the module holds the very buffer object it had, float32 as before."""
    ns = run("torch.manual_seed(0)\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
             "        self.lin = nn.Linear(3, 2)\n        self.register_buffer('ema', torch.zeros(3))\n"
             "    def forward(self, x):\n        self.ema = self.ema * 0.9 + x.mean(0) * 0.1\n"
             "        return self.lin(x)\nm = M()\nX = torch.randn(4, 3)")
    m = ns["m"]
    inspection = inspections.from_expression("m(X).pow(2).sum()", ns)
    ema, values = m.ema, m.ema.clone()
    check = inspections.check(inspection.token)
    assert check.verdicts == {"m.lin.weight": "ok", "m.lin.bias": "ok"}, check.lines()
    assert m.ema is ema and m._buffers["ema"] is ema
    assert m.ema.dtype == torch.float32 and torch.equal(m.ema, values)


def test_every_recorded_leaf_appears_checked_or_with_why():
    ns = run("w = torch.tensor([2., 3.], requires_grad=True)\nv = torch.tensor([1., 5.], requires_grad=True)\n"
             "h = v * 2")
    inspection, check = checked(ns, "(w * torch.ones(2, requires_grad=True)).sum() + (h * w).sum()")
    labels = set(inspection.recording.leaf_grads)
    assert labels == {"w", "v", "leaf1"} and set(check.verdicts) == labels
    assert check.verdicts["w"] == "ok"
    lines = "\n".join(check.lines())
    assert "leaf1: not checked, because the re-run never uses this tensor" in lines, lines
    assert "v: not checked, because it is reached through h, computed before the expression" in lines, lines


def test_complex_leaves_are_recorded_printed_and_checked_as_torch_does():
    ns = run("z = torch.tensor([1+2j, 3-1j], requires_grad=True)\none = torch.tensor(2-1j, requires_grad=True)\n"
             "many = (torch.arange(14) * (1 - 0.5j)).requires_grad_()")
    inspection, check = checked(ns, "((z * z.conj()).real.sum() + (one * one).real + (many * many.conj()).real.sum())")
    assert check.verdicts == {"z": "ok", "one": "ok", "many": "ok"}, check.lines()
    text = "\n".join(walk_lines(inspection.recording))
    assert "(2-1j)" in text and "(14 values)" in text
    z = ns["z"].detach().to(torch.complex128).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: (t * t.conj()).real.sum(), (z,))
    assert torch.allclose(inspection.recording.leaf_grads["z"].to(torch.complex128), 2 * z.detach())


def test_a_sparse_gradient_is_checked():
    ns = run("torch.manual_seed(0)\nemb = nn.Embedding(10, 3, sparse=True)\nidx = torch.tensor([1, 2, 1])")
    inspection, check = checked(ns, "(emb(idx) ** 2).sum()")
    assert inspection.recording.leaf_grads["emb.weight"].layout == torch.sparse_coo
    assert check.verdicts == {"emb.weight": "ok"}, check.lines()


def test_a_wrong_gradient_still_differs():
    ns = run("class Off(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
             "        ctx.save_for_backward(x)\n        return x * x\n    @staticmethod\n"
             "    def backward(ctx, g):\n        (x,) = ctx.saved_tensors\n        return g * 2 * x * 1.001\n"
             "w = torch.tensor([1., 2., 3.], requires_grad=True)")
    _, check = checked(ns, "Off.apply(w).sum()")
    assert check.verdicts == {"w": "differs"}, check.lines()


def test_a_non_scalar_root_takes_a_gradient_after_a_comma():
    ns = run("w = torch.tensor([1., 2., 3.], requires_grad=True)\ny = w * 3")
    inspection, check = checked(ns, "w ** 2, torch.tensor([1., 0., 2.])")
    assert inspection.recording.leaf_grads["w"].tolist() == [2.0, 0.0, 12.0]
    assert check.verdicts == {"w": "ok"}, check.lines()
    from engine.autograd import AutogradError

    with pytest.raises(AutogradError) as refused:
        inspections.from_expression("w ** 2", ns)
    words = str(refused.value)
    assert "%autograd (w ** 2).sum()" in words and "%autograd w ** 2, torch.ones_like(w ** 2)" in words
    assert "pass a gradient" not in words


def test_the_walk_says_what_backward_would_add_and_accumulate_checks_what_it_prints():
    built = EXAMPLES["accumulate"].build()
    rec = record_backward(built.root, built.namespace, passes=built.passes)
    text = "\n".join(walk_lines(rec))
    assert "w.grad =" not in text
    assert "What 2 backward passes would add to each leaf's .grad (the inspector leaves .grad itself as it was):" in text
    assert "  w: tensor(160.)" in text
    check = gradient_check(built.forward, built.leaves, rec.leaf_grads, passes=built.passes)
    assert check.lines()[0].startswith("w: recorded 160, finite differences 160: error"), check.lines()


# --- property: random graphs over shared modules, globals of functions, tensors made inside ----
def random_program(seed: int) -> tuple[str, str]:
    """A setup (modules, some shared; functions that read globals; leaves) and an expression."""
    rng = random.Random(seed)
    lines = [f"torch.manual_seed({seed})", "X = torch.randn(3, 4)"]
    layers = []
    for i in range(rng.randint(1, 3)):
        lines.append(f"L{i} = nn.Linear(4, 4)")
        layers.append(f"L{i}")
    lines.append("G = (torch.randn(4, 4) * 0.5).requires_grad_()")
    lines.append("def mix(h):\n    return torch.tanh(h @ G)")  # reads a global leaf
    body = [rng.choice(layers)]  # at least one leaf on the way
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["layer", "layer", "mix", "made", "act"])
        if kind == "layer":
            body.append(rng.choice(layers))  # a layer may come twice: shared
        elif kind == "mix":
            body.append("mix")
        elif kind == "made":
            body.append("made")
        else:
            body.append(rng.choice(["torch.sigmoid", "torch.nn.functional.softplus"]))
    lines.append("layers = [" + ", ".join(f"'{b}'" for b in body) + "]")
    lines.append("def net(h):\n    for name in layers:\n"
                 "        if name == 'made':\n            h = h + torch.full((4,), 0.25)\n"  # made inside, float32
                 "        elif name == 'mix':\n            h = mix(h)\n"
                 "        else:\n            h = eval(name)(h)\n    return h")
    return "\n".join(lines), rng.choice(["net(X).pow(2).mean()", "(net(X) * torch.arange(4.)).sum()"])


def twin(setup: str) -> dict:
    """The same program in float64: modules converted in place (shared ones stay shared), the
    global leaf and the data widened; a tensor made inside stays float32 and is promoted."""
    ns = run(setup)
    for value in list(ns.values()):
        if isinstance(value, torch.nn.Module):
            value.double()
    ns["X"] = ns["X"].double()
    ns["G"] = ns["G"].detach().double().requires_grad_()
    return ns


def resolve(ns: dict, label: str) -> torch.Tensor:
    owner, _, rest = label.partition(".")
    return dict(ns[owner].named_parameters())[rest] if rest else ns[owner]


@pytest.mark.parametrize("seed", range(12))
def test_random_programs_check_as_float64_autograd_and_central_differences_say(seed):
    setup, expression = random_program(seed)
    ns = run(setup)
    inspection, check = checked(ns, expression)
    assert check.passed and not check.skipped, (setup, check.lines())
    assert set(check.verdicts) == set(inspection.recording.leaf_grads) == set(inspection.leaves)
    wide = twin(setup)
    exact = dict(zip(inspection.leaves, torch.autograd.grad(eval(expression, wide),
                                                            [resolve(wide, k) for k in inspection.leaves]),
                     strict=True))
    for label in inspection.leaves:
        leaf = resolve(wide, label)
        recorded = inspection.recording.leaf_grads[label].double()
        assert torch.allclose(recorded, exact[label], rtol=1e-4, atol=1e-5), (seed, label)

        def f(t, leaf=leaf):
            saved = leaf.detach().clone()
            with torch.no_grad():
                leaf.copy_(t)
                try:
                    return _number(eval(expression, wide))
                finally:
                    leaf.copy_(saved)

        assert torch.allclose(exact[label], central(f, leaf), rtol=1e-5, atol=1e-6), (seed, label)


def test_the_check_puts_cuda_random_states_back_too(monkeypatch):
    """Without a GPU here: CUDA's generators stood in for, to see they are read and put back."""
    cuda = {"state": [torch.tensor([1, 2, 3], dtype=torch.uint8)], "set": []}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: [s.clone() for s in cuda["state"]])
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", lambda states: cuda["set"].append(list(states)))
    monkeypatch.setattr(torch.cuda, "default_generators", (), raising=False)
    ns = run("torch.manual_seed(0)\nnet = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))\nX = torch.randn(3, 4)")
    _, check = checked(ns, "net(X).sum()")
    assert check.passed, check.lines()
    assert cuda["set"] and all(torch.equal(s[0], cuda["state"][0]) for s in cuda["set"])  # the last put back: as read


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_random_forward_on_cuda_leaves_the_cuda_random_state_as_it_was():
    ns = run("torch.manual_seed(0)\nnet = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 1)).cuda()\n"
             "X = torch.randn(8, 4, device='cuda')")
    inspection = inspections.from_expression("net(X).sum()", ns)
    before = torch.cuda.get_rng_state_all()
    check = inspections.check(inspection.token)
    assert all(torch.equal(a, b) for a, b in zip(before, torch.cuda.get_rng_state_all(), strict=True))
    assert check.passed, check.lines()
