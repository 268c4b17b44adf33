"""engine/training.py: the trainer against the closed-form optimum, its config, pause/stop and the moons task."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

from engine.tasks.regression import least_squares
from engine.training import (
    ConfigError,
    Diverged,
    Trainer,
    make_config,
    make_data,
    train,
)


def test_defaults_match_the_tutorial():
    cfg = make_config()
    assert (cfg.samples, cfg.features, cfg.noise, cfg.bias, cfg.data_seed) == (100, 1, 10.0, 1.5, 0)
    assert (cfg.batch_size, cfg.epochs, cfg.lr, cfg.optimizer, cfg.loader) == (16, 100, 0.01, "sgd", "dataloader")
    result = train(cfg)
    assert 112 < result.final_loss < 117
    assert result.metrics.true_weight[0] == pytest.approx(42.3855, abs=1e-4)
    assert abs(result.metrics.weight[0] - result.metrics.true_weight[0]) < 1.0
    assert result.metrics.optimal_loss <= result.final_loss
    assert result.epochs == 100 and result.steps == 700


@pytest.mark.parametrize("seed", [1, 7])
def test_final_loss_band_for_other_seeds(seed):
    assert 112 < train(make_config(seed=seed)).final_loss < 117


def test_least_squares_is_the_closed_form_optimum():
    data = make_data(make_config(features=3, samples=50))
    w, b, mse = least_squares(data)
    x = np.hstack([data.x.double().numpy(), np.ones((50, 1))])
    y = data.y.double().numpy().reshape(-1)
    pred = x @ np.array([*w, b])
    assert mse == pytest.approx(np.mean((pred - y) ** 2))
    # no nearby point does better
    assert np.mean((x @ (np.array([*w, b]) + 0.01) - y) ** 2) > mse


def test_tensor_loader_and_other_optimizers_learn():
    for optimizer in ("momentum", "adam"):
        result = train(make_config(loader="tensor", optimizer=optimizer, epochs=60, lr=0.5 if optimizer == "adam" else 0.01))
        assert result.final_loss < 130, optimizer
    multi = train(make_config(features=3, loader="tensor", epochs=50))
    assert len(multi.metrics.weight) == 3 and len(multi.metrics.true_weight) == 3


@pytest.mark.parametrize("field,value", [
    ("lr", "0"), ("lr", "abc"), ("batch_size", "0"), ("epochs", "0"), ("samples", "1"),
    ("features", "0"), ("noise", "-1"), ("optimizer", "rmsprop"), ("loader", "magic"), ("device", "gpu"),
    ("epochs", "2.5"), ("lr", "nan"),
])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ConfigError) as info:
        make_config(**{field: value})
    assert info.value.field == field


def test_absent_device_lists_present_ones():
    from engine.devices import DeviceError

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError, match="available: cpu"):
        list(Trainer(make_config(device="cuda:3")).run())


def test_huge_dataset_is_refused_before_allocating():
    with pytest.raises(ConfigError, match="GiB"):
        make_data(make_config(samples=10**9, features=1000))


def test_divergence_stops_and_says_where():
    with pytest.raises(Diverged) as info:
        train(make_config(lr=5, epochs=20))
    assert info.value.epoch >= 1 and "lower learning rate" in str(info.value)


def test_pause_resume_and_stop_from_another_thread():
    trainer = Trainer(make_config(epochs=100000, loader="tensor"))
    gen = trainer.run()
    next(gen)
    trainer.pause()
    assert trainer.paused
    done = threading.Event()

    def consume():
        try:
            for _ in gen:
                pass
        except StopIteration:
            pass
        done.set()

    t = threading.Thread(target=consume)
    t.start()
    assert not done.wait(0.3)  # paused: no progress
    trainer.resume()
    trainer.stop()
    assert done.wait(10)
    t.join()


def test_stopped_run_returns_a_partial_result():
    trainer = Trainer(make_config(epochs=1000, loader="tensor"))
    gen = trainer.run()
    seen = 0
    while True:
        try:
            event = next(gen)
        except StopIteration as end:
            result = end.value
            break
        seen += event.epoch_done
        if seen == 3:
            trainer.stop()
    assert result.stopped and result.epochs == 3


@pytest.mark.slow  # the exported script runs as a process of its own
def test_moons_defaults_reach_the_goal_and_the_script_reproduces_them(tmp_path, capsys):
    """`torchtui train --headless --task moons --json`: ≥ 0.95 accuracy with the defaults, and the
    exported script, run by plain Python in a process of its own, prints the same numbers (the run
    is as repeatable as its seed says)."""
    from tui import cli

    script = tmp_path / "moons.py"
    run = ["train", "--headless", "--task", "moons", "--json", "--export-script", str(script)]
    assert cli.main(run) == 0
    data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert data["task"] == "moons" and data["hidden"] == 16 and data["epochs"] == 100
    assert data["accuracy"] >= 0.95 and data["final_loss"] < 0.2
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert lines[-2] == f"final loss: {data['final_loss']:.6f}"
    assert lines[-1] == f"accuracy: {data['accuracy']:.4f}"


def test_moons_trainer_reports_accuracy_and_a_boundary_that_splits_the_moons():
    from engine.tasks.moons import BOUNDARY_GRID

    events = []
    result = train(make_config(task="moons", epochs=30, loader="tensor"), events.append)
    last = events[-1]
    assert 0.5 < last.metrics.accuracy <= 1 and result.metrics.accuracy_history[-1] == last.metrics.accuracy
    columns, rows = BOUNDARY_GRID
    assert len(last.metrics.boundary) == columns * rows and set(last.metrics.boundary) == {"0", "1"}
    assert result.task == "moons" and result.metrics.accuracy > 0.85
    assert make_config(task="moons").optimizer == "momentum"  # the task's defaults, unless given
    assert make_config(task="moons", optimizer="adam").optimizer == "adam"


@pytest.mark.parametrize("raw,field", [({"task": "spirals"}, "task"), ({"task": "moons", "features": 3}, "features"),
                                       ({"task": "moons", "hidden": 0}, "hidden")])
def test_moons_config_errors_name_the_field(raw, field):
    with pytest.raises(ConfigError) as info:
        make_config(**raw)
    assert info.value.field == field
    assert info.value.said.words("zh") != str(info.value)  # worded in either language


@pytest.mark.parametrize(("setting", "expected"), [(None, 10), ("0", 0), ("5", 5), ("lots", 10), ("40", 10)])
def test_a_runs_thread_is_niced_as_the_environment_says(monkeypatch, setting, expected):
    """The training thread yields to the screen by 10 unless TORCHTUI_TRAINING_NICENESS says
    otherwise (0: not at all); a value that is not a niceness is passed over."""
    import threading

    from engine.kernel.training_run import yield_to_the_screen

    if setting is None:
        monkeypatch.delenv("TORCHTUI_TRAINING_NICENESS", raising=False)
    else:
        monkeypatch.setenv("TORCHTUI_TRAINING_NICENESS", setting)
    seen = []

    def thread() -> None:
        yield_to_the_screen()
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    before = os.getpriority(os.PRIO_PROCESS, 0)
    if before:
        pytest.skip("the tests run niced already")
    worker = threading.Thread(target=thread)
    worker.start()
    worker.join()
    assert seen == [expected]
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the process itself, and its other threads, not
