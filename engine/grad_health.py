"""Gradient health of a model while it trains, without a UI: per parameter tensor, the gradient's
norm, the weight's norm and the update/weight ratio ‖Δw‖/‖w‖ of a step, kept on the model's device
in a small ring buffer and read to the CPU once per `snapshot()`, which also says which layers'
gradients vanish or explode.

Any model works, whatever its task: the tracker reads `model.named_parameters()`. The trainer calls
`before_step()` just before `optimizer.step()` (the gradients are there, the weights not yet moved)
and `after_step()` just after it.

What it costs: measuring a step is a few foreach kernels over every parameter (a copy of the
weights, a subtraction, the norms), which on a small model weighs as much as a tenth of the step
itself. So a tracker measures a step only while its own time (measuring and snapshots) stays
within `budget` of the run's: every step of a big model, a share of a tiny one's, each value being
that one step's own; `budget=None` measures every step. NaN and Inf stay in the weights once
there, so a run that blows up is seen at the next measured step.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

VANISH_BELOW = 1e-7  # a gradient norm under this: the layer learns nothing
EXPLODE_ABOVE = 1e3  # over this (or NaN, Inf): the step throws the weights around
HISTORY = 32  # measured steps kept per parameter: the sparkline's points
MAX_ROWS = 24  # parameter tensors a snapshot describes row by row (flagged ones first)
MAX_NAMED = 8  # flagged layers named in a snapshot (all of them are counted)
BUDGET = 0.02  # the share of a run's time the tracker may take

OK, VANISHING, EXPLODING = "ok", "vanishing", "exploding"


@dataclass(frozen=True)
class ParamHealth:
    """One parameter tensor at the latest measured step: its norms, the step's update relative to
    the weight, the gradient norm at the recent measured steps (oldest first), and the verdict
    ("ok", "vanishing" or "exploding"). `grad_norm` is NaN for a tensor the step gave no gradient."""

    name: str
    shape: tuple[int, ...]
    grad_norm: float
    weight_norm: float
    update_ratio: float
    history: tuple[float, ...] = ()
    verdict: str = OK


@dataclass(frozen=True)
class HealthSnapshot:
    """A model's gradient health, for a panel: the rows of at most MAX_ROWS parameter tensors (the
    flagged ones first, then in the model's order), how many tensors there are in all, and among
    all of them the layers whose gradients vanish or explode (the first MAX_NAMED named, every
    flagged tensor counted). `step`: the run's step the values are from."""

    step: int
    rows: tuple[ParamHealth, ...]
    tensors: int
    vanishing: tuple[str, ...] = ()
    exploding: tuple[str, ...] = ()
    vanishing_count: int = 0
    exploding_count: int = 0

    @property
    def left_out(self) -> int:
        """Parameter tensors with no row of their own."""
        return self.tensors - len(self.rows)


def layer_of(name: str) -> str:
    """The layer a parameter belongs to: `layers.3.weight` is in `layers.3`."""
    return name.rsplit(".", 1)[0] if "." in name else name


class GradHealth:
    """The tracker of one run's model; see the module's docstring for when to call what."""

    def __init__(self, model: nn.Module, budget: float | None = BUDGET, history: int = HISTORY,
                 max_rows: int = MAX_ROWS) -> None:
        import torch

        named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        self.names = [name for name, _ in named]
        self.shapes = [tuple(p.shape) for _, p in named]
        self.params = [p for _, p in named]
        self.device = self.params[0].device if self.params else torch.device("cpu")
        # one device and no sparse gradient: the foreach kernels take every tensor in one call
        self._uniform = all(p.device == self.device for p in self.params)
        self.budget = budget
        self.spent = 0.0  # seconds the tracker took so far
        self.started: float | None = None  # the first step's time
        self.max_rows = max_rows
        n = len(self.params)
        # per slot: (grad norms, weight norms, update norms) × parameter, on the device
        self.values = torch.zeros((history, 3, n), dtype=torch.float32, device=self.device)
        self.before = [p.detach().clone() for p in self.params]  # the weights before the measured step
        self._nothing = torch.zeros((), device=self.device)  # a gradient's stand-in where there is none
        self.slot_steps: list[int] = [0] * history
        self.slot_missing: list[frozenset[int]] = [frozenset()] * history  # tensors without a gradient
        self.steps = 0  # optimizer steps seen
        self.written = 0  # measured steps
        self.read_upto = 0  # measured steps already in a snapshot
        self._measuring = False

    def before_step(self) -> None:
        """Called just before optimizer.step(): keep the weights, if this step is measured."""
        self.steps += 1
        if not self.params:
            return
        now = time.perf_counter()
        if self.started is None:
            self.started = now
        self._measuring = self.budget is None or self.spent <= self.budget * (now - self.started)
        if not self._measuring:
            return
        import torch

        with torch.no_grad():
            torch._foreach_copy_(self.before, [p.detach() for p in self.params])
        self.spent += time.perf_counter() - now

    def after_step(self) -> None:
        """Called just after optimizer.step(): the step's norms go into the next slot (on the
        device: nothing waits for it)."""
        if not self._measuring:
            return
        self._measuring = False
        began = time.perf_counter()
        import torch

        grads, missing = [], []
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                missing.append(i)
                g = self._nothing
            elif g.is_sparse:
                g = g.coalesce().values()
            grads.append(g.detach())
        weights = [p.detach() for p in self.params]
        slot = self.written % self.values.shape[0]
        with torch.no_grad():
            torch._foreach_sub_(self.before, weights)  # now -Δw: its norm is the update's
            tensors = grads + weights + self.before
            if self._uniform and not any(g.dtype != weights[0].dtype for g in tensors):
                norms = list(torch._foreach_norm(tensors))
            else:  # mixed devices or dtypes: one norm at a time, brought to the buffer's device
                norms = [torch.linalg.vector_norm(t.float()).to(self.device) for t in tensors]
            torch.stack([n.float() for n in norms], out=self.values[slot].view(-1))
        self.slot_steps[slot] = self.steps
        self.slot_missing[slot] = frozenset(missing)
        self.written += 1
        self.spent += time.perf_counter() - began

    def measure_now(self) -> None:
        """Measure the gradients and weights as they are, whatever the budget: the trainer calls it
        when a run diverges, so that what blew up is seen even when the budget let none of the last
        steps through. The update of that step is not known here: NaN."""
        if not self.params:
            return
        import torch

        with torch.no_grad():
            for kept in self.before:
                kept.fill_(math.nan)
        self._measuring = True
        self.after_step()

    def snapshot(self) -> HealthSnapshot | None:
        """The latest measured step's health, read from the device in one transfer; None before
        the first measured step. A layer explodes if its gradient did at any step measured since
        the last snapshot (a spike between two redraws is not lost), and vanishes if it does now."""
        if not self.written:
            return None
        began = time.perf_counter()
        try:
            return self._snapshot()
        finally:
            self.spent += time.perf_counter() - began

    def _snapshot(self) -> HealthSnapshot:
        import torch

        history = self.values.shape[0]
        kept = min(self.written, history)
        new = max(1, min(self.written - self.read_upto, kept))
        self.read_upto = self.written
        start = self.written % history if self.written > history else 0
        with torch.no_grad():
            ordered = self.values.roll(-start, 0)[:kept] if start else self.values[:kept]  # oldest first
            grads = ordered[:, 0, :]
            peak = grads[-new:].amax(dim=0)  # (NaN wins in amax: a NaN step stays seen)
            exploding = ~(peak <= EXPLODE_ABOVE)
            vanishing = (grads[-1] < VANISH_BELOW) & ~exploding
            n = grads.shape[1]
            flagged = vanishing | exploding
            if n <= self.max_rows:
                chosen = torch.arange(n, device=self.device)
            else:  # the flagged first, then the others, each in the model's order
                order = torch.where(flagged, 0, n) + torch.arange(n, device=self.device)
                chosen = torch.sort(torch.topk(order, self.max_rows, largest=False).indices).values
            packed = torch.cat([vanishing.float(), exploding.float(), chosen.float(),
                                ordered.index_select(2, chosen).reshape(-1)])
        values = packed.cpu().tolist()  # the one read of this snapshot
        vanish, explode = values[:n], values[n:2 * n]
        rows_at = [int(i) for i in values[2 * n:2 * n + len(chosen)]]
        rows = len(rows_at)
        block = values[2 * n + rows:]  # kept × 3 × rows
        missing = self.slot_missing[(self.written - 1) % history]
        is_vanishing = [bool(v) and i not in missing for i, v in enumerate(vanish)]
        is_exploding = [bool(v) for v in explode]
        out = []
        for k, i in enumerate(rows_at):
            def at(step: int, what: int, k: int = k) -> float:
                return block[(step * 3 + what) * rows + k]

            grad = at(kept - 1, 0) if i not in missing else math.nan
            weight, update = at(kept - 1, 1), at(kept - 1, 2)
            verdict = EXPLODING if is_exploding[i] else VANISHING if is_vanishing[i] else OK
            out.append(ParamHealth(self.names[i], self.shapes[i], grad, weight, ratio(update, weight),
                                   tuple(at(s, 0) for s in range(kept)), verdict))
        return HealthSnapshot(
            step=self.slot_steps[(self.written - 1) % history], rows=tuple(out), tensors=n,
            vanishing=named_layers(self.names, is_vanishing), exploding=named_layers(self.names, is_exploding),
            vanishing_count=sum(is_vanishing), exploding_count=sum(is_exploding))


def ratio(update: float, weight: float) -> float:
    """‖Δw‖/‖w‖; a zero weight moved is an infinite ratio, a zero weight left alone none."""
    if weight == 0:
        return 0.0 if update == 0 else math.inf
    return update / weight


def named_layers(names: list[str], flags: list[bool]) -> tuple[str, ...]:
    """The first MAX_NAMED layers with a flagged parameter, in the model's order."""
    layers: list[str] = []
    for name, flagged in zip(names, flags, strict=True):
        layer = layer_of(name)
        if flagged and layer not in layers:
            layers.append(layer)
            if len(layers) == MAX_NAMED:
                break
    return tuple(layers)

