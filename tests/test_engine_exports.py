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
    assert state["weight"].reshape(-1).tolist() == pytest.approx(list(result.metrics.weight))


def test_moons_exports_keep_accuracy_and_load_into_the_mlp(tmp_path):
    from engine.training import build_model

    cfg = make_config(task="moons", epochs=3)
    trainer = Trainer(cfg)
    result = drive(trainer)
    csv = exports.loss_csv(result, tmp_path / "moons.csv").read_text().splitlines()
    assert csv[0] == "epoch,loss,accuracy" and len(csv) == 4
    assert float(csv[-1].split(",")[2]) == result.metrics.accuracy_history[-1]
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


# A file name is the learner's (or anyone's) text: it must stay text in the script it names.
HOSTILE_NAMES = (
    'a"""+str(__import__("os").system("touch X"))+"""b.py',  # ends the docstring, runs a command
    "\\N{oops}.py",  # an escape that does not exist: a SyntaxError if it lands in a string literal
    "back\\slash'quote\".py",
    "line\rbreak\u2028and\x0cfeed.py",  # line ends, for Python's tokenizer or for str.splitlines
    "\udcff\x01.py",  # what an undecodable byte in a command-line path becomes (surrogateescape)
    "\u7ec3\u4e60.py",
)


@pytest.mark.parametrize("task,processes", [("regression", 1), ("moons", 1), ("regression", 2), ("moons", 2)])
def test_hostile_file_names_stay_text_in_every_exported_script(task, processes):
    import ast
    import shlex

    from engine.exports import script_text

    for name in HOSTILE_NAMES:
        text = script_text(make_config(task=task, processes=processes), "cpu", name)
        text.encode("utf-8")  # writable as it is
        tree = ast.parse(compile(text, "exported.py", "exec", flags=ast.PyCF_ONLY_AST))
        calls = {node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                 for node in ast.walk(tree) if isinstance(node, ast.Call)}
        assert "system" not in calls and "__import__" not in calls, name
        assert isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant)
        doc = tree.body[0].value.value
        assert shlex.quote(" ".join(name.split())) in doc  # shown as it is, ready to paste in a shell


@pytest.mark.slow
@pytest.mark.parametrize("task", ["regression", "moons"])
def test_running_a_script_exported_under_a_hostile_name_runs_no_command(tmp_path, task):
    name = HOSTILE_NAMES[0]
    path = exports.script(make_config(task=task, processes=2, epochs=1, samples=40), "cpu", tmp_path / name)
    assert path.name == name
    out = subprocess.run([sys.executable, name], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "world size 1:" in out.stdout
    assert not (tmp_path / "X").exists()
