"""%autograd and its gradient check through a real kernel, as the app asks for them: each case of
the check on real code (shared layers, globals, tensors made inside, cancellation, NaN, random
forwards, unnamed leaves, complex tensors, non-scalar roots), with the learner's tensors and random
states left as they were."""

from __future__ import annotations

import pytest

from engine.protocol import AutogradShown, CheckGradients

pytestmark = pytest.mark.slow  # a kernel process


def inspect(kernel, source: str):
    """Run `%autograd source` as a cell; its inspection payload and its gradient check."""
    news, record = kernel.news_after(f"%autograd {source}", AutogradShown)
    assert "opening the Autograd inspector" in record.output, record.text()
    inspection = news.inspection
    return inspection, kernel.request(CheckGradients(inspection.token))


def test_every_case_of_the_issue_through_percent_autograd(kernel):
    kernel.run("import random\ntorch.manual_seed(0)\nshared = nn.Linear(8, 8)\n"
               "net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared)\nX = torch.randn(5, 4)\n"
               "W1 = torch.randn(4, 3, requires_grad=True)\ndef f(X):\n    return torch.relu(X @ W1)\n"
               "src = torch.randn(3, 2, requires_grad=True)\nidx = torch.tensor([[0, 4], [1, 2], [3, 3]])\n"
               "x = torch.randn(4, 6, requires_grad=True)\nxs = torch.tensor([1., -2., 3., 4.], requires_grad=True)\n"
               "drop = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 1))")
    _, check = inspect(kernel, "net(X).sum()")
    assert set(check.verdicts.values()) == {"ok"}, check.lines()
    _, check = inspect(kernel, "f(X).pow(2).sum()")
    assert check.verdicts == {"W1": "ok"}, check.lines()
    _, check = inspect(kernel, "(torch.zeros(3, 5).scatter_add(1, idx, src) ** 2).sum()")
    assert check.verdicts == {"src": "ok"}, check.lines()
    _, check = inspect(kernel, "torch.nn.functional.layer_norm(x, (6,)).sum() * 100")
    assert check.verdicts == {"x": "ok"}, check.lines()
    _, check = inspect(kernel, "torch.sqrt(xs).nan_to_num().sum()")
    assert "the recorded gradient holds NaN at 1 of the 4 elements compared" in "\n".join(check.lines())
    # a random forward: checked from its recorded state, the learner's next draws as without the check
    state = kernel.run("_s = (torch.get_rng_state(), random.getstate(), np.random.get_state())")
    assert state.ok
    _, check = inspect(kernel, "drop(X).sum()")
    assert set(check.verdicts.values()) == {"ok"} and "The forward draws random numbers" in check.lines()[-1]
    after = kernel.run("_a = (torch.rand(3), random.random(), np.random.rand())\n"
                       "torch.set_rng_state(_s[0]); random.setstate(_s[1]); np.random.set_state(_s[2])\n"
                       "drop(X)\n_b = (torch.rand(3), random.random(), np.random.rand())\n"
                       "torch.equal(_a[0], _b[0]) and _a[1:] == _b[1:]")
    assert after.value == "True", after.text()
    _, check = inspect(kernel, "(xs * torch.ones(4, requires_grad=True)).sum()")
    assert check.verdicts == {"xs": "ok", "leaf1": "not_checked"}, check.lines()
    assert "leaf1: not checked, because" in "\n".join(check.lines())


def test_complex_and_non_scalar_roots_through_percent_autograd(kernel):
    kernel.run("one = torch.tensor(2-1j, requires_grad=True)\nmany = (torch.arange(14) * (1 - 0.5j)).requires_grad_()\n"
               "w = torch.tensor([1., 2., 3.], requires_grad=True)")
    inspection, check = inspect(kernel, "(one * one).real + (many * many.conj()).real.sum()")
    assert check.verdicts == {"one": "ok", "many": "ok"}, check.lines()
    refused = kernel.run("%autograd w ** 2").text()
    assert "%autograd w ** 2, torch.ones_like(w ** 2)" in refused and "Traceback" not in refused
    inspection, check = inspect(kernel, "w ** 2, torch.tensor([1., 0., 2.])")
    assert check.verdicts == {"w": "ok"}, check.lines()
    steps = inspection.recording.steps
    assert [s.grad_after.value for s in steps if s.grad_after is not None] == ["[2, 0, 12]"]
    assert kernel.run("w.grad is None and one.grad is None").value == "True"
