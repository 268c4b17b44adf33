"""engine/tasks/own.py: the learner's own model, data, loss and optimizer trained by the trainer,
with a hand-written loop in plain torch as the oracle; and each wrong object said in one sentence."""

from __future__ import annotations

import copy

import pytest
import torch
from sklearn.datasets import make_moons
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from engine.kernel.training_run import own_run
from engine.protocol import TrainProgress, decode_event, encode_event
from engine.tasks import TASKS, task
from engine.tasks.own import OwnError, OwnProgress, look_up, names_by_kind
from engine.training import Trainer, drive, make_config

EPOCHS = 3


def moons(n: int = 96):
    x, y = make_moons(n_samples=n, noise=0.2, random_state=0)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y)


def seeded_mlp() -> nn.Module:
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def hand_loop(model, batches_of_epoch, loss_fn, optimizer, epochs: int = EPOCHS):
    """The learner's own loop: every step's weights, and each epoch's mean loss."""
    weights, losses = [], []
    for _ in range(epochs):
        total, seen = 0.0, 0
        for bx, by in batches_of_epoch():
            loss = loss_fn(model(bx), by)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            weights.append([p.detach().clone() for p in model.parameters()])
            total += float(loss.detach()) * bx.shape[0]
            seen += bx.shape[0]
        losses.append(total / seen)
    return weights, losses


def own_weights(model, data, loss_fn, optimizer, **options):
    """The trainer's run of the learner's objects, with the weights after every step (read in
    the loss: the step before's optimizer.step() has run by then)."""
    steps = []

    def recorded(out, y):
        steps.append([p.detach().clone() for p in model.parameters()])
        return loss_fn(out, y)

    cfg = make_config(task="own", epochs=EPOCHS, **options)
    cfg, given, tensors = own_run(cfg, model, data, recorded, optimizer)
    steps.clear()  # (the check before the run called the loss once)
    trainer = Trainer(cfg, tensors, device=cfg.device, given=given)
    result = drive(trainer)
    steps.append([p.detach().clone() for p in model.parameters()])
    return steps[1:], result


@pytest.mark.parametrize("optimizer_of", [lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
                                          lambda ps: torch.optim.Adam(ps, lr=0.01)], ids=["momentum", "adam"])
def test_a_pair_of_tensors_trains_as_the_hand_written_loop_step_for_step(optimizer_of):
    x, y = moons()
    mine, oracle = seeded_mlp(), seeded_mlp()
    generator = torch.Generator().manual_seed(0)  # the tensor loader's order: cfg.seed

    def batches():
        order = torch.randperm(x.shape[0], generator=generator)
        for start in range(0, x.shape[0], 16):
            idx = order[start:start + 16]
            yield x[idx], y[idx]

    expected, losses = hand_loop(oracle, batches, nn.CrossEntropyLoss(), optimizer_of(oracle.parameters()))
    got, result = own_weights(mine, (x, y), nn.CrossEntropyLoss(), optimizer_of(mine.parameters()), batch_size=16)
    assert len(got) == len(expected) == EPOCHS * 6
    for step, (a, b) in enumerate(zip(got, expected, strict=True)):
        for pa, pb in zip(a, b, strict=True):
            torch.testing.assert_close(pa, pb, msg=f"step {step + 1}")
    assert result.loss_history == pytest.approx(losses, rel=1e-5)
    assert result.metrics.accuracy is not None and len(result.metrics.accuracy_history) == EPOCHS
    assert result.task == "own" and result.metrics.model == "Sequential"


def test_a_dataloader_of_the_learners_is_iterated_as_their_loop_would_with_a_function_as_loss():
    x, y = moons()
    y = y.float().reshape(-1, 1)
    torch.manual_seed(3)
    mine = nn.Linear(2, 1)
    oracle = copy.deepcopy(mine)

    def loss_fn(out, target):
        return ((out - target) ** 2).mean()

    loader = DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True, generator=torch.Generator().manual_seed(5))
    twin = DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True, generator=torch.Generator().manual_seed(5))
    expected, losses = hand_loop(oracle, lambda: iter(twin), loss_fn, torch.optim.SGD(oracle.parameters(), lr=0.05))
    got, result = own_weights(mine, loader, loss_fn, torch.optim.SGD(mine.parameters(), lr=0.05))
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        for pa, pb in zip(a, b, strict=True):
            torch.testing.assert_close(pa, pb)
    assert result.loss_history == pytest.approx(losses, rel=1e-5)
    assert result.metrics.accuracy is None  # float targets are not class labels


def test_the_learners_random_state_is_theirs_and_the_model_is_trained_in_place():
    x, y = moons(32)
    model = seeded_mlp()
    first = model[0].weight
    before = first.detach().clone()
    torch.manual_seed(42)
    state = torch.random.get_rng_state()
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    cfg, given, tensors = own_run(make_config(task="own", epochs=1), model, loader, nn.CrossEntropyLoss(),
                                  torch.optim.SGD(model.parameters(), lr=0.1))
    assert torch.equal(torch.random.get_rng_state(), state)  # the check's peek at a batch drew nothing
    drive(Trainer(cfg, tensors, device=cfg.device, given=given))
    assert model[0].weight is first and not torch.equal(first.detach(), before)
    assert cfg.device == "cpu" and cfg.lr == 0.1
    assert cfg.batch_size == 8 != make_config(task="own").batch_size  # the loader's own, as the screen says it


def test_wrong_objects_are_each_one_sentence():
    x, y = moons(20)
    model, other = seeded_mlp(), seeded_mlp()
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    cfg = make_config(task="own")
    cases = {
        "model must be an nn.Module": (lambda: own_run(cfg, "net", (x, y), nn.CrossEntropyLoss(), sgd)),
        "must be a DataLoader, a Dataset or a pair": (lambda: own_run(cfg, model, [1, 2, 3], nn.CrossEntropyLoss(),
                                                                      sgd)),
        "as many rows": (lambda: own_run(cfg, model, (x, y[:5]), nn.CrossEntropyLoss(), sgd)),
        "must return a scalar": (lambda: own_run(cfg, model, (x, y), nn.CrossEntropyLoss(reduction="none"), sgd)),
        "does not step this Sequential's parameters": (
            lambda: own_run(cfg, model, (x, y), nn.CrossEntropyLoss(), torch.optim.SGD(other.parameters(), lr=0.1))),
        "rejected a batch of inputs (16, 3)": (lambda: own_run(cfg, model, (torch.zeros(20, 3), y),
                                                               nn.CrossEntropyLoss(), sgd)),
        "a torch.optim optimizer": (lambda: own_run(cfg, model, (x, y), nn.CrossEntropyLoss(), 0.1)),
    }
    for words, call in cases.items():
        with pytest.raises(OwnError) as caught:
            call()
        text = str(caught.value)
        assert words in text and "\n" not in text and "Traceback" not in text, text


def test_a_loss_that_becomes_nan_stops_the_run_in_words_with_the_model_as_it_was():
    from engine.training import Diverged

    x, y = moons(32)
    model = seeded_mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    calls = []

    def poisoned(out, target):
        calls.append(1)
        loss = nn.functional.cross_entropy(out, target)
        return loss * float("nan") if len(calls) > 3 else loss

    cfg, given, tensors = own_run(make_config(task="own", epochs=5, batch_size=8), model, (x, y), poisoned, optimizer)
    with pytest.raises(Diverged) as caught:
        drive(Trainer(cfg, tensors, device=cfg.device, given=given))
    assert "lower learning rate than 0.1" in str(caught.value)


def test_the_namespace_names_by_kind_and_a_pair_is_looked_up():
    x, y = moons(20)
    net = seeded_mlp()
    namespace = {"net": net, "X": x, "y": y, "loss_fn": nn.MSELoss(), "opt": torch.optim.SGD(net.parameters()),
                 "loader": DataLoader(TensorDataset(x, y)), "_hidden": net, "torch": torch}
    names = names_by_kind(namespace)
    assert names["model"] == ("net",) and names["loss"] == ("loss_fn",) and names["optimizer"] == ("opt",)
    assert "loader" in names["data"] and "X, y" in names["data"]
    pair = look_up(namespace, "data", "X, y")
    assert pair[0] is x and pair[1] is y
    with pytest.raises(OwnError, match="pick a model"):
        look_up(namespace, "model", "")


def test_the_own_task_is_registered_and_its_progress_crosses_the_wire():
    assert task("own") is TASKS["own"] and task("own").given == ("model", "data", "loss", "optimizer")
    assert {s.name for s in task("own").schema()} == {"epochs", "batch_size", "device"}
    from engine.training import Progress

    event = TrainProgress(-1, Progress(1, 2, 3, 0.5, 10.0, 0.1, True, OwnProgress(0.75, (0.5, 0.25), 2, 1)))
    assert decode_event(encode_event(event)) == event


def test_the_own_task_words_itself_in_both_languages_and_exports_no_script():
    from engine.i18n import catalog

    kind = task("own")
    assert set(kind.files) == {"csv", "state_dict"} and kind.no_script in catalog("zh")
    x, y = moons(32)
    model = seeded_mlp()
    cfg, given, tensors = own_run(make_config(task="own", epochs=2), model, (x, y), nn.CrossEntropyLoss(),
                                  torch.optim.SGD(model.parameters(), lr=0.1))
    events: list = []
    result = drive(Trainer(cfg, tensors, device=cfg.device, given=given), events.append)
    for line in kind.result_lines(result, cfg):
        assert line.code in catalog("en") and line.words("zh") != line.words("en"), line
        assert "{" not in line.words("en") and "{" not in line.words("zh"), line
    key, values = kind.status(events[-1].metrics)
    assert key in catalog("zh") and "accuracy" in values
    steps = [n for e in events for n in e.metrics.step_losses]
    assert events[-1].metrics.first_step + len(events[-1].metrics.step_losses) - 1 == result.steps
    assert len(steps) == result.steps  # (short epochs: one loss a step)
