"""Gradient health against torch as the oracle: the tracker's norms are torch.linalg.vector_norm of
each parameter's .grad and .data, its ratio ‖Δw‖/‖w‖ of the step; a deep sigmoid stack vanishes, a
huge learning rate explodes, a NaN is flagged; a model of many tensors is described in bounded rows."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from engine.grad_health import EXPLODING, MAX_NAMED, OK, VANISHING, GradHealth, HealthSnapshot
from engine.protocol import TrainHealth, decode_event, encode_event
from engine.training import Diverged, Trainer, drive, make_config


def sigmoid_stack(layers: int = 20, width: int = 16) -> nn.Sequential:
    parts: list[nn.Module] = []
    for _ in range(layers):
        parts += [nn.Linear(width, width), nn.Sigmoid()]
    return nn.Sequential(*parts, nn.Linear(width, 2))


def step(model, tracker, optimizer, x, y) -> None:
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    tracker.before_step()
    optimizer.step()
    tracker.after_step()


def test_the_norms_and_the_ratio_are_torchs_own():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    tracker = GradHealth(model, budget=None)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    for _ in range(3):
        step(model, tracker, optimizer, x, y)
    # the oracle: one more step by hand, its weights before and after
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    tracker.before_step()
    optimizer.step()
    tracker.after_step()
    snapshot = tracker.snapshot()
    assert snapshot is not None and snapshot.step == 4 and snapshot.tensors == 4
    for row, (name, p) in zip(snapshot.rows, model.named_parameters(), strict=True):
        assert row.name == name and row.shape == tuple(p.shape)
        assert row.grad_norm == pytest.approx(torch.linalg.vector_norm(p.grad).item(), rel=1e-6)
        assert row.weight_norm == pytest.approx(torch.linalg.vector_norm(p.data).item(), rel=1e-6)
        update = torch.linalg.vector_norm(p.data - before[name]).item()
        assert row.update_ratio == pytest.approx(update / torch.linalg.vector_norm(p.data).item(), rel=1e-5)
        assert len(row.history) == 4 and row.history[-1] == row.grad_norm
        assert row.verdict == OK


def test_a_twenty_layer_sigmoid_stack_is_flagged_vanishing():
    torch.manual_seed(0)
    model = sigmoid_stack()
    tracker = GradHealth(model, budget=None)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(64, 16), torch.randint(0, 2, (64,))
    step(model, tracker, optimizer, x, y)
    snapshot = tracker.snapshot()
    assert snapshot is not None
    first = snapshot.rows[0]
    assert first.name == "0.weight" and first.verdict == VANISHING
    assert first.grad_norm == pytest.approx(torch.linalg.vector_norm(model[0].weight.grad).item(), rel=1e-5)
    assert first.grad_norm < 1e-7
    assert snapshot.vanishing[0] == "0" and len(snapshot.vanishing) == MAX_NAMED  # the first layers, named
    assert snapshot.exploding == () and snapshot.exploding_count == 0
    # the last layer, next to the loss, still learns
    assert torch.linalg.vector_norm(model[40].weight.grad).item() > 1e-7
    assert "40" not in snapshot.vanishing


def test_a_huge_learning_rate_is_flagged_exploding_before_the_run_diverges():
    cfg = make_config(task="moons", epochs=50, lr=1e5, optimizer="sgd", device="cpu")
    trainer = Trainer(cfg, health=True)
    seen: list[HealthSnapshot] = []

    def progress(_p) -> None:
        assert trainer.health is not None
        snapshot = trainer.health.snapshot()
        if snapshot is not None:
            seen.append(snapshot)

    with pytest.raises(Diverged):
        drive(trainer, progress)
    assert trainer.health is not None
    last = trainer.health.snapshot() or seen[-1]
    assert last.exploding_count > 0 and last.exploding
    assert any(row.verdict == EXPLODING for row in last.rows)


def test_a_nan_gradient_is_flagged_exploding_until_read():
    model = nn.Linear(2, 1)
    tracker = GradHealth(model, budget=None)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # the weights stay: only the gradient is NaN
    x = torch.ones(4, 2)
    loss = model(x).sum() * math.nan
    loss.backward()
    tracker.before_step()
    optimizer.step()
    tracker.after_step()
    model.zero_grad()
    model(x).sum().backward()  # a healthy step after it: the NaN one was not read yet
    tracker.before_step()
    optimizer.step()
    tracker.after_step()
    snapshot = tracker.snapshot()
    assert snapshot is not None and snapshot.exploding_count == 2
    assert {row.verdict for row in snapshot.rows} == {EXPLODING}
    assert math.isnan(snapshot.rows[0].history[0])
    again = tracker.snapshot()  # read once: the spike is behind, the latest step is healthy
    assert again is not None and again.exploding_count == 0


def test_many_tensors_give_bounded_rows_the_flagged_first_and_a_count_of_the_rest():
    model = nn.Sequential(*(nn.Linear(4, 4) for _ in range(300)))
    tracker = GradHealth(model, budget=None, max_rows=10)
    sum(p.sum() for p in model.parameters()).backward()  # every gradient all ones: healthy
    with torch.no_grad():
        model[250].weight.grad.mul_(1e9)  # one layer far from the start explodes
        model[7].bias.grad.zero_()  # one vanishes
    tracker.before_step()
    tracker.after_step()
    snapshot = tracker.snapshot()
    assert snapshot is not None and snapshot.tensors == 600 and len(snapshot.rows) == 10 and snapshot.left_out == 590
    names = [row.name for row in snapshot.rows]
    assert "250.weight" in names and "7.bias" in names
    assert snapshot.exploding == ("250",) and snapshot.exploding_count == 1
    assert "7" in snapshot.vanishing
    assert names == sorted(names, key=lambda n: int(n.split(".")[0]))  # in the model's order


def test_a_tracker_keeps_to_its_budget_and_measures_the_first_step():
    model = nn.Linear(2, 1)
    tracker = GradHealth(model, budget=0.0)  # no time at all: only the first step
    for _ in range(5):
        model.zero_grad()
        model(torch.ones(1, 2)).sum().backward()
        tracker.before_step()
        tracker.after_step()
    assert tracker.steps == 5 and tracker.written == 1
    snapshot = tracker.snapshot()
    assert snapshot is not None and snapshot.step == 1


def test_a_snapshot_crosses_the_wire_whole():
    model = nn.Linear(2, 1)
    tracker = GradHealth(model, budget=None)
    model(torch.ones(1, 2)).sum().backward()
    tracker.before_step()
    tracker.after_step()
    event = TrainHealth(3, tracker.snapshot())
    assert decode_event(encode_event(event)) == event


def test_every_task_is_tracked_without_code_of_its_own():
    for name in ("regression", "moons"):
        trainer = Trainer(make_config(task=name, epochs=2, device="cpu"), health=True)
        drive(trainer)
        assert trainer.health is not None and trainer.model is not None
        snapshot = trainer.health.snapshot()
        assert snapshot is not None
        assert [row.name for row in snapshot.rows] == [n for n, _ in trainer.model.named_parameters()]


def test_a_run_that_blew_up_between_measured_steps_is_still_flagged():
    """The budget may let none of the last steps through: measure_now(), which the trainer calls
    as a run diverges, reads the gradients as they are."""
    model = nn.Linear(2, 1)
    tracker = GradHealth(model, budget=0.0)  # after the first step, no time for another
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.ones(4, 2)
    for scale in (1.0, 1.0, math.inf):
        optimizer.zero_grad()
        (model(x).sum() * scale).backward()
        tracker.before_step()
        optimizer.step()
        tracker.after_step()
    first = tracker.snapshot()
    assert first is not None and first.exploding_count == 0  # only the first, healthy step was measured
    tracker.measure_now()
    last = tracker.snapshot()
    assert last is not None and last.exploding_count == 2 and all(row.verdict == EXPLODING for row in last.rows)
