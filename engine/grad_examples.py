"""The inspector's built-in examples: small graphs that each show one idea of autograd."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor


@dataclass(frozen=True)
class Built:
    """An example after its forward pass: the root, the named tensors, and how to recompute it."""

    root: Tensor
    namespace: dict
    leaves: dict  # name -> leaf tensor that requires grad
    forward: Callable  # forward(**leaves) -> scalar tensor, for the gradient check
    passes: int = 1
    code: str = ""


@dataclass(frozen=True)
class Example:
    """A named example: what it teaches (catalog keys of its words) and how to build it."""

    key: str
    title: str
    lesson: str
    build: Callable[[], Built]
    check_note: str = ""  # what a differing gradient check means for this example


def _mse(z, y):
    import torch

    return torch.nn.functional.mse_loss(z, y)


def scalar() -> Built:
    import torch

    x = torch.tensor(5.0)
    y = torch.tensor(0.0)
    w = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(3.0, requires_grad=True)
    z = x * w + b
    loss = _mse(z, y)
    code = ("x = torch.tensor(5.); y = torch.tensor(0.)\n"
            "w = torch.tensor(1., requires_grad=True); b = torch.tensor(3., requires_grad=True)\n"
            "z = x * w + b\nloss = F.mse_loss(z, y)")
    return Built(loss, dict(x=x, y=y, w=w, b=b, z=z, loss=loss), dict(w=w, b=b),
                 lambda w, b: _mse(x.double() * w + b, y.double()), code=code)


def _run(code: str) -> dict:
    """Run an example's code as a learner would paste it; its names, in the order made."""
    import torch
    import torch.nn.functional as F

    scope = {"torch": torch, "F": F}
    exec(code, scope)
    return {k: v for k, v in scope.items() if k not in ("torch", "F", "g", "__builtins__")}


MATRIX = """g = torch.Generator().manual_seed(0)
x = torch.ones(2, 5); y = torch.zeros(2, 3)
w = torch.randn(5, 3, generator=g).requires_grad_()
b = torch.randn(3, generator=g).requires_grad_()
z = x @ w + b
loss = F.mse_loss(z, y)"""


def matrix() -> Built:
    ns = _run(MATRIX)
    x, y = ns["x"], ns["y"]
    return Built(ns["loss"], ns, dict(w=ns["w"], b=ns["b"]),
                 lambda w, b: _mse(x.double() @ w + b, y.double()), code=MATRIX)


MLP = """g = torch.Generator().manual_seed(1)
x = torch.randn(4, 3, generator=g); y = torch.randn(4, 1, generator=g)
w1 = (torch.randn(3, 4, generator=g) * 0.5).requires_grad_(); b1 = torch.zeros(4, requires_grad=True)
w2 = (torch.randn(4, 1, generator=g) * 0.5).requires_grad_(); b2 = torch.zeros(1, requires_grad=True)
h = torch.tanh(x @ w1 + b1)
out = h @ w2 + b2
loss = F.mse_loss(out, y)"""


def mlp() -> Built:
    import torch

    ns = _run(MLP)
    x, y = ns["x"], ns["y"]

    def forward(w1, b1, w2, b2):
        return _mse(torch.tanh(x.double() @ w1 + b1) @ w2 + b2, y.double())

    return Built(ns["loss"], ns, {k: ns[k] for k in ("w1", "b1", "w2", "b2")}, forward, code=MLP)


def accumulate() -> Built:
    built = scalar()
    code = built.code + "\nloss.backward(retain_graph=True)\nloss.backward()   # no zero_grad(): .grad doubles"
    return Built(built.root, built.namespace, built.leaves, built.forward, passes=2, code=code)


def detach() -> Built:
    import torch

    x = torch.tensor(2.0)
    w = torch.tensor(3.0, requires_grad=True)
    a = w * x
    a_cut = a.detach()
    with torch.no_grad():
        frozen = w * 10
    loss = a * a + a_cut * w + frozen
    code = ("x = torch.tensor(2.); w = torch.tensor(3., requires_grad=True)\n"
            "a = w * x                 # in the graph\n"
            "a_cut = a.detach()        # same value, cut from the graph\n"
            "with torch.no_grad():\n    frozen = w * 10        # computed without a graph\n"
            "loss = a * a + a_cut * w + frozen")

    def forward(w):
        a = w * x.double()
        return a * a + a.detach() * w + (w.detach() * 10)

    return Built(loss, dict(x=x, w=w, a=a, a_cut=a_cut, frozen=frozen, loss=loss), dict(w=w),
                 forward, code=code)


EXAMPLES: dict[str, Example] = {  # title, lesson and check note are catalog keys: ag.example.KEY.*
    key: Example(key, f"ag.example.{key}.title", f"ag.example.{key}.lesson", build,
                 "ag.detach_note" if key == "detach" else "")
    for key, build in (("scalar", scalar), ("matrix", matrix), ("mlp", mlp), ("accumulate", accumulate),
                       ("detach", detach))
}
