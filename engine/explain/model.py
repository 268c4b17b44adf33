"""What an explanation is made of: the operands of the failing operation and the hint."""

from __future__ import annotations

from dataclasses import dataclass

from engine.i18n import Said


@dataclass(frozen=True)
class Operand:
    """One operand of the failing operation, as the line typed it. For a tensor: its shape, dtype,
    device and requires_grad; for anything else `kind` names its type (`Linear(in_features=3, …)`
    for a layer, say); `looked_up` is False for a subexpression that would have to be run again
    (a call), shown as not re-evaluated."""

    expression: str
    looked_up: bool = True
    is_tensor: bool = False
    shape: tuple[int, ...] | None = None
    dtype: str = ""  # "torch.float32"
    device: str = ""  # "cpu", "cuda:0"
    requires_grad: bool = False
    kind: str = ""  # what it is when it is no tensor: "int", "Linear(in_features=3, out_features=1)"
    name_in_model: str = ""  # a layer's name in the model that holds it ("fc2"), when known


@dataclass(frozen=True)
class Site:
    """Where the error was raised in the learner's code: the innermost frame of theirs."""

    filename: str
    lineno: int
    line: str  # the failing line as typed (stripped of its indentation)
    col: int | None = None  # where the failing operation starts in `line`, when Python says
    end_col: int | None = None


@dataclass(frozen=True)
class Explanation:
    site: Site
    operands: tuple[Operand, ...] = ()
    hint: Said | None = None
