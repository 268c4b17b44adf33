"""engine/formulas.py: the chain-rule line of each step, with the real numbers where they are scalars."""

from __future__ import annotations

import pytest
import torch

from engine.autograd import record_backward


def run(setup: str) -> dict:
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(setup, namespace)
    return namespace


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


def test_rules_are_found_by_the_longest_prefix_and_have_words_in_both_languages():
    from engine import formulas
    from engine.i18n import catalog

    assert formulas.find("PowBackward0") is formulas.RULES["PowBackward0"]
    assert formulas.find("PowBackward2") is formulas.RULES["PowBackward2"]
    assert formulas.find("AddBackward0") is formulas.RULES["AddBackward"]
    assert formulas.find("CudnnConvolutionBackward0") is None  # not listed: no rule
    assert formulas.rule("CudnnConvolutionBackward0") is None
    keys = {rule.words for rule in formulas.RULES.values() if isinstance(rule.words, str)}
    for lang in ("en", "zh"):
        assert keys <= set(catalog(lang)), sorted(keys - set(catalog(lang)))


def test_scalar_steps_show_grad_times_local_derivative_with_the_real_numbers():
    ns = run("w = torch.tensor(4.0, requires_grad=True)\nx = torch.tensor(5.0)\nb = torch.tensor(1.0, requires_grad=True)")
    steps = record_backward((ns["w"] * ns["x"] + ns["b"]) ** 2, ns).steps
    words = [step.formula.words() for step in steps]
    assert any("input 1: 1 × 42 = 42" in line for line in words), words  # d(u²)/du = 2u at u = 21
    assert any("input 1: 42 × 5 = 210" in line for line in words), words  # d(w·x)/dw = x = 5
    leaves = [step.formula for step in steps if step.formula.code == "formula.leaf"]
    assert {f.values["label"] for f in leaves} == {"w", "b"}
    assert ns["w"].grad is None  # the inspector leaves the learner's .grad as it was


def test_an_op_without_a_rule_says_its_name_and_shapes_and_makes_nothing_up():
    ns = run("x = torch.ones(2, 3, requires_grad=True)")
    rec = record_backward(torch.nn.functional.softplus(ns["x"]).sum(), ns)
    softplus = [s.formula for s in rec.steps if "Softplus" in rec.graph.node(s.node).name]
    assert softplus and softplus[0].code == "formula.unknown"
    assert softplus[0].values["name"].startswith("SoftplusBackward") and softplus[0].values["output"] == "(2, 3)"
    assert "×" not in softplus[0].words()  # no numbers it cannot know
