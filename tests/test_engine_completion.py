"""engine/repl/completion.py and complete_input.py: completion that runs nothing, and when a cell is complete."""

import torch

from engine.repl.complete_input import is_complete
from engine.repl.completion import common_prefix, complete


def test_completeness():
    assert not is_complete("for i in range(3):")
    assert not is_complete("x = (1,")
    assert is_complete("x = 1")
    assert is_complete("x = )")  # invalid: run it to show the error
    assert is_complete("%who")


def test_completion_never_runs_properties():
    class Trap:
        @property
        def boom(self):
            raise AssertionError("completion ran a property")

    ns = {"torch": torch, "np": __import__("numpy"), "x": torch.ones(2), "trap": Trap()}
    assert "zeros" in complete("torch.ze", ns)[1]
    assert "array" in complete("np.ar", ns)[1]
    assert "sum" in complete("x.", ns)[1]
    assert complete("trap.boom.", ns)[1] == []
    assert complete("y = torch.ze", ns) == (len("y = torch."), ["zero_", "zeros", "zeros_like"])
    assert common_prefix(["zeros", "zeros_like"]) == "zeros"


def test_completion_walks_module_tables_without_getattr():
    lin = torch.nn.Linear(2, 2)
    model = torch.nn.Sequential()
    model.add_module("fc", lin)
    ns = {"model": model, "lin": lin}
    assert "weight" in complete("model.fc.we", ns)[1]
    assert "grad" in complete("lin.weight.gr", ns)[1]


def test_signatures_without_running_anything():
    from engine.repl.completion import signature

    class Trap:
        @property
        def boom(self):
            raise AssertionError("a property ran")

    lin = torch.nn.Linear(2, 2)
    ns = {"torch": torch, "lin": lin, "trap": Trap()}
    assert signature("torch.cat", ns) == "torch.cat(tensors, dim=0, *, out=None) -> Tensor"
    assert signature("lin.forward", ns) == "lin.forward(input: torch.Tensor) -> torch.Tensor"
    assert signature("torch.nn.Linear", ns).startswith("torch.nn.Linear(in_features: int, out_features: int")
    assert signature("trap.boom", ns) is None and signature("lin.weight", ns) is None
