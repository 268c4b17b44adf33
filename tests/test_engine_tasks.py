"""engine/tasks: the Task interface, the registry and the two tasks, with plain torch as the oracle
of what a run of each learns and measures."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import torch
from sklearn.datasets import make_moons, make_regression

from engine.i18n import catalog
from engine.protocol import TrainFinished, TrainProgress, decode_event, encode_event
from engine.tasks import SETTINGS, TASKS, form_settings, task
from engine.tasks.base import Task
from engine.training import Trainer, drive, make_config

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 4
MADE = [name for name, kind in TASKS.items() if not kind.given]  # the tasks that make their own data and model


def oracle_run(cfg, model: torch.nn.Module, x, y, loss_of):
    """The trainer's run of `cfg` with the tensor loader, written out in plain torch on `model` (made
    just after seeding torch): each epoch's mean loss and every batch's outputs and targets."""
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9 if cfg.optimizer == "momentum" else 0)
    generator = torch.Generator().manual_seed(cfg.seed)
    losses, outputs = [], []
    for _ in range(cfg.epochs):
        order = torch.randperm(x.shape[0], generator=generator)
        total, seen, epoch_outputs = 0.0, 0, []
        for start in range(0, x.shape[0], cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            out = model(x[idx])
            loss = loss_of(out, y[idx])
            epoch_outputs.append((out.detach(), y[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
        losses.append(total / seen)
        outputs.append(epoch_outputs)
    return losses, outputs


def test_the_regression_learns_what_plain_torch_learns_and_its_floor_is_least_squares():
    cfg = make_config(epochs=EPOCHS, loader="tensor", samples=60, features=2)
    trainer = Trainer(cfg)
    result = drive(trainer)
    x, y, coef = make_regression(n_samples=60, n_features=2, noise=cfg.noise, coef=True, bias=cfg.bias, random_state=0)
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    torch.manual_seed(cfg.seed)
    model = torch.nn.Linear(2, 1)
    losses, _ = oracle_run(cfg, model, x, y, torch.nn.functional.mse_loss)
    assert result.loss_history == pytest.approx(losses, rel=1e-5)
    m = result.metrics
    assert m.weight == pytest.approx(model.weight.detach().reshape(-1).tolist(), rel=1e-5)
    assert m.bias == pytest.approx(float(model.bias.detach()), rel=1e-5)
    assert m.true_weight == pytest.approx(list(coef)) and m.true_bias == cfg.bias
    design = torch.cat([x.double(), torch.ones(60, 1, dtype=torch.float64)], dim=1)
    solution = torch.linalg.lstsq(design, y.double()).solution.reshape(-1)
    assert [*m.optimal_weight, m.optimal_bias] == pytest.approx(solution.tolist(), rel=1e-6)
    assert m.optimal_loss == pytest.approx(float(((design @ solution - y.double().reshape(-1)) ** 2).mean()))
    assert m.optimal_loss <= result.final_loss


def test_the_moons_learn_what_plain_torch_learns_and_count_their_accuracy_right():
    cfg = make_config(task="moons", epochs=EPOCHS, loader="tensor", samples=200, hidden=8)
    events = []
    result = drive(Trainer(cfg), events.append)
    x, y = make_moons(n_samples=200, noise=cfg.noise, random_state=0)
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
    torch.manual_seed(cfg.seed)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    losses, outputs = oracle_run(cfg, model, x, y, torch.nn.functional.cross_entropy)
    assert result.loss_history == pytest.approx(losses, rel=1e-5)
    # each epoch's accuracy: the share of its batches' outputs (before each step) that were right
    per_epoch = [sum(int((out.argmax(1) == target).sum()) for out, target in epoch) / 200 for epoch in outputs]
    assert result.metrics.accuracy_history == pytest.approx(per_epoch)
    assert [e.metrics.accuracy for e in events if e.epoch_done] == pytest.approx(per_epoch)
    with torch.no_grad():
        assert result.metrics.accuracy == pytest.approx(float((model(x).argmax(1) == y).float().mean()))
    assert result.metrics.hidden == 8 and result.as_json()["accuracy"] == result.metrics.accuracy


@pytest.mark.parametrize("name", list(TASKS))
def test_each_tasks_schema_defaults_are_a_valid_config_that_is_its_starting_one(name):
    kind = task(name)
    schema = kind.schema()
    assert [s.name for s in schema] == [s.name for s in SETTINGS if s.name not in kind.hides]
    cfg = make_config(task=name, **{s.name: s.default for s in schema})
    assert cfg == kind.config()
    for s in schema:
        if s.low is not None:
            assert s.low <= s.default <= s.high, s.name
        if s.choices:
            assert s.default in s.choices, s.name
    assert {s.name for s in form_settings()} >= {s.name for s in schema}
    assert all(s.default is not None for s in form_settings())


@pytest.mark.parametrize("name", MADE)  # (the own task's run: tests/test_engine_own_task.py)
def test_each_task_is_complete_and_words_itself_in_both_languages(name):
    kind = task(name)
    assert isinstance(kind, Task) and kind.name == name
    assert set(kind.files) == {"csv", "state_dict", "script"}
    assert kind.plot in ("fit", "boundary")
    assert {c.__name__ for c in kind.wire_classes}
    keys = [kind.words, kind.idle, *([kind.curve] if kind.curve else [])]
    for lang in ("en", "zh"):
        assert all(key in catalog(lang) for key in keys), (lang, keys)
    cfg = make_config(task=name, epochs=2, samples=40)
    result = drive(Trainer(cfg))
    lines = kind.result_lines(result, cfg) + kind.result_lines(result, cfg, cli=True)
    for line in lines:
        assert line.code in catalog("en") and line.words("zh") != line.words("en"), line
        assert "{" not in line.words("en") and "{" not in line.words("zh"), line


@pytest.mark.parametrize("name", MADE)
def test_each_tasks_progress_and_result_cross_the_wire_as_they_are(name):
    events = []
    result = drive(Trainer(make_config(task=name, epochs=2, samples=40)), events.append)
    for event in (TrainProgress(1, events[-1]), TrainFinished(1, result)):
        back = decode_event(json.loads(json.dumps(encode_event(event))))
        assert back == event and type(getattr(back, "progress", None) or back.result) is not dict


def test_the_tasks_import_without_torch():
    """The app's process reads the schema and the words: importing the tasks must not bring torch."""
    code = "import sys, engine.tasks, engine.training; assert 'torch' not in sys.modules, 'torch'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_no_task_is_named_by_a_string_outside_engine_tasks():
    """Everything but the tasks themselves asks a task (engine.tasks.task) what to do: a task's name
    as a string elsewhere would be a branch on it, which a new task would have to find."""
    names = set(TASKS)
    found = []
    for path in sorted([*ROOT.joinpath("engine").rglob("*.py"), *ROOT.joinpath("tui").rglob("*.py")]):
        if ROOT.joinpath("engine", "tasks") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not found, found


def test_a_stopped_run_still_has_its_tasks_metrics():
    trainer = Trainer(make_config(task="moons", epochs=1000, loader="tensor", samples=64))
    result = None
    gen = trainer.run()
    while result is None:
        try:
            if next(gen).epoch_done and len(trainer.loss_history) == 2:
                trainer.stop()
        except StopIteration as end:
            result = end.value
    assert result.stopped and result.epochs == 2 and len(result.metrics.accuracy_history) == 2
    assert asdict(replace(result, loss_history=()))["metrics"]["hidden"] == 16
