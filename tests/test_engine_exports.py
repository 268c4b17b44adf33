"""engine/exports.py: the CSV, the state_dict and the scripts a run exports; each script reproduces its run."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from engine import exports
from engine.training import (
    Trainer,
    drive,
    make_config,
    train,
)


@pytest.mark.slow
def test_exported_script_reproduces_the_run(tmp_path):
    for loader in ("dataloader", "tensor"):
        cfg = make_config(loader=loader, epochs=15, seed=3)
        result = train(cfg)
        path = exports.script(cfg, "cpu", tmp_path / f"run_{loader}.py")
        out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True)
        last = float(out.stdout.strip().splitlines()[-1].split(":")[1])
        assert f"{last:.4f}" == f"{result.final_loss:.4f}"
        assert path.stat().st_mode & 0o777 == 0o600


def test_exports_csv_and_state_dict(tmp_path):
    trainer = Trainer(make_config(epochs=5))
    result = drive(trainer)
    csv = exports.loss_csv(result, tmp_path / "loss.csv").read_text().splitlines()
    assert csv[0] == "epoch,loss" and len(csv) == 6
    assert float(csv[-1].split(",")[1]) == result.final_loss
    path = exports.state_dict(trainer.model, tmp_path / "m.pt")
    state = exports.load_state_dict(path)
    assert state["weight"].reshape(-1).tolist() == pytest.approx(list(result.weight))


def test_moons_exports_keep_accuracy_and_load_into_the_mlp(tmp_path):
    from engine.training import build_model

    cfg = make_config(task="moons", epochs=3)
    trainer = Trainer(cfg)
    result = drive(trainer)
    csv = exports.loss_csv(result, tmp_path / "moons.csv").read_text().splitlines()
    assert csv[0] == "epoch,loss,accuracy" and len(csv) == 4
    assert float(csv[-1].split(",")[2]) == result.accuracy_history[-1]
    fresh = build_model(cfg)
    fresh.load_state_dict(exports.load_state_dict(exports.state_dict(trainer.model, tmp_path / "m.pt")))
    points = torch.randn(5, 2)
    assert torch.equal(fresh(points), trainer.model(points))


def test_the_script_of_a_stopped_run_runs_the_epochs_that_happened():
    from engine.exports import script_text
    from engine.training import RunConfig

    text = script_text(RunConfig(epochs=3000), "cpu", 'odd "name".py', epochs_run=609)
    assert "EPOCHS, LR, SEED = 16, True, 609," in text
    assert "stopped after 609 of its 3000 epochs" in text
    compile(text, "exported.py", "exec")  # a file name with quotes stays a comment, not code
    assert "EPOCHS, LR, SEED = 16, True, 3000," in script_text(RunConfig(epochs=3000), "cpu")
