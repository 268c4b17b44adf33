"""F4 Training on the learner's own objects ("your model"), on a fake kernel answered by the
engine's own handlers (training included) in this process: the pickers, a run from the form, a
run %train started, the export dialog, and the words for what is missing."""

from __future__ import annotations

from dataclasses import asdict

import torch
from sklearn.datasets import make_moons
from textual.widgets import Select
from torch import nn

from engine.protocol import TrainShown
from tests.engine_in_process import engine_kernel, serve_engine
from tests.helpers import running, static_text, wait_for
from tui.app import make_app


def learners_namespace(kernel) -> nn.Module:
    x, y = make_moons(n_samples=64, noise=0.2, random_state=0)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    kernel.namespace.update(net=net, X=torch.tensor(x, dtype=torch.float32), y=torch.tensor(y),
                            loss_fn=nn.CrossEntropyLoss(), opt=torch.optim.SGD(net.parameters(), lr=0.1))
    return net


async def choose_own(pilot, screen) -> None:
    screen.query_one("#f-task", Select).value = "own"
    assert await wait_for(pilot, lambda: not screen.query_one("#f-own-model", Select).is_blank(), 30)


async def test_your_model_trains_from_the_pickers_in_place_with_step_loss_and_accuracy():
    kernel = engine_kernel()
    app = make_app(screen="train", kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        serve_engine(kernel)
        net = learners_namespace(kernel)
        before = net[0].weight.detach().clone()
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.ready, 30)
        await choose_own(pilot, screen)
        assert screen.query_one("#f-own-data", Select).value == "X, y"  # the only pair: chosen already
        assert screen.query_one("#f-own-loss", Select).value == "loss_fn"
        assert screen.query_one("#row-samples").has_class("-not-this-task")
        screen.query_one("#f-epochs").value = "20"
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: screen.result is not None or not screen.running, 60)
        status = static_text(screen.query_one("#tr-status"))
        assert screen.result is not None, status
        assert "Done: 20 epochs" in status and "trained in place" in status and "accuracy" in status
        assert not torch.equal(net[0].weight.detach(), before)  # the learner's own object learned
        assert kernel.namespace["trained_model"] is net
        assert kernel.namespace["trained_result"].loss_history == tuple(screen.loss_history)
        assert screen.loss_history[-1] < screen.loss_history[0]
        assert len(screen.step_losses) == screen.result.steps == 20 * 4
        assert screen.has_class("-second-curve") and screen.has_class("-plot-steps")
        assert len(screen.curve_history) == 20
        await pilot.press("f9")  # the export dialog: the history and the weights; no script, said why
        assert await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ExportScreen", 10)
        assert app.screen.kinds == ["csv", "state_dict"]
        assert "No script for your own model" in static_text(app.screen.query_one("#ex-result"))


async def test_nothing_to_pick_is_said_and_nothing_starts():
    kernel = engine_kernel()
    app = make_app(screen="train", kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        serve_engine(kernel)
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.ready, 30)
        screen.query_one("#f-task", Select).value = "own"
        assert await wait_for(pilot, lambda: "pick a model" in static_text(screen.query_one("#tr-form-error")), 30)
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: screen.query_one("#f-own-model").has_class("-bad"), 10)
        assert not screen.running and screen.result is None and screen.runs_started == 0


async def test_a_run_that_train_started_is_followed_from_the_playground():
    from engine.kernel.training_run import own_run
    from engine.training import make_config

    kernel = engine_kernel()
    app = make_app(screen="playground", kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        bridge = serve_engine(kernel)
        net = learners_namespace(kernel)
        ns = kernel.namespace
        cfg, given, data = own_run(make_config(task="own", epochs=15, batch_size=8), net, (ns["X"], ns["y"]),
                                   ns["loss_fn"], ns["opt"])
        # what %train does in the kernel (tests/test_kernel_train.py runs the magic itself)
        kernel.send(TrainShown(-1, asdict(cfg), {"model": "net", "data": "(X, y)", "loss": "loss_fn",
                                                 "optimizer": "opt"}))
        bridge.training.start_given(cfg, given, data, -1)
        assert await wait_for(pilot, lambda: app.screen.__class__.__name__ == "TrainingScreen", 30)
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.result is not None, 60)
        assert screen.run_id == -1 and screen.result.epochs == 15 and len(screen.loss_history) == 15
        assert screen.own_names["data"] == "(X, y)"  # the run's objects as %train was given them
        assert screen.query_one("#f-own-model", Select).value == "net"  # the form: ready to run it again
        assert "Done: 15 epochs" in static_text(screen.query_one("#tr-status"))


async def test_your_models_run_pauses_and_stops_with_the_keys_of_any_run():
    kernel = engine_kernel()
    app = make_app(screen="train", kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        serve_engine(kernel)
        learners_namespace(kernel)
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.ready, 30)
        await choose_own(pilot, screen)
        screen.query_one("#f-epochs").value = "100000"
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: screen.latest is not None, 60)
        await pilot.press("f6")
        assert await wait_for(pilot, lambda: "paused" in static_text(screen.query_one("#tr-status")), 30)
        await pilot.press("f6", "f7")
        assert await wait_for(pilot, lambda: screen.result is not None, 60)
        assert screen.result.stopped and "Stopped after" in static_text(screen.query_one("#tr-status"))
