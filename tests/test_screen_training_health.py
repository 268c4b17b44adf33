"""The Training screen's gradient-health panel on the engine's own run (tests/engine_in_process.py:
the kernel's handlers in this process): a 20-layer sigmoid stack is flagged as vanishing, a huge
learning rate as exploding, in English and in Chinese, and the panel fits 80×24 beside the loss curve."""

from __future__ import annotations

import pytest

from engine.tasks import TASKS
from engine.tasks.moons import Moons
from tests.engine_in_process import serve_engine
from tests.helpers import running, wait_for
from tui import i18n
from tui.app import make_app
from tui.kernel.fake import FakeKernel
from tui.widgets.health_panel import HealthPanel


class SigmoidStack(Moons):
    """The moons through 20 sigmoid layers: the gradient reaching the first ones is ~1e-17."""

    name = "sigmoid_stack"

    def model(self, cfg):
        from torch import nn

        parts = [nn.Linear(2, cfg.hidden), nn.Sigmoid()]
        for _ in range(19):
            parts += [nn.Linear(cfg.hidden, cfg.hidden), nn.Sigmoid()]
        return nn.Sequential(*parts, nn.Linear(cfg.hidden, 2))


def panel_text(app) -> str:
    panel = app.screen.query_one(HealthPanel)
    return "\n".join(line.plain for line in panel.lines(panel.content_size.width, panel.content_size.height))


@pytest.fixture
def sigmoid_task(monkeypatch):
    monkeypatch.setitem(TASKS, SigmoidStack.name, SigmoidStack())


async def start(pilot, settings: dict[str, str]) -> None:
    app = pilot.app
    screen = app.screen
    assert await wait_for(pilot, lambda: app.kernel.ready, 10)
    for name, value in settings.items():
        screen.query_one(f"#f-{name}").value = value
        await pilot.pause(0.05)  # (a task chosen fills the form with its settings: before the others)
    await pilot.press("ctrl+g")
    await pilot.press("ctrl+r")


@pytest.mark.parametrize(("lang", "words"), [("en", "vanishing (< 1e-7) in"), ("zh", "梯度消失（< 1e-7）")])
async def test_the_panel_flags_a_twenty_layer_sigmoid_stack_as_vanishing(sigmoid_task, lang, words):
    kernel = FakeKernel()
    app = make_app(screen="train", kernel=kernel, lang=lang)
    try:
        async with running(app, size=(80, 24)) as pilot:
            serve_engine(kernel)
            await start(pilot, {"task": "sigmoid_stack", "epochs": "3"})
            panel = app.screen.query_one(HealthPanel)
            assert await wait_for(pilot, lambda: panel.snapshot is not None and app.screen.result is not None, 60)
            snapshot = panel.snapshot
            assert snapshot is not None and snapshot.vanishing_count > 0 and snapshot.vanishing[0] == "0"
            assert snapshot.rows[0].verdict == "vanishing"
            shown = panel_text(app)
            assert words in shown, shown
            assert "▼ 0.weight" in shown  # the first layer's row, marked
            # it fits: every line within the panel, the panel and the loss curve on the screen
            assert panel.region.right <= 80 and panel.region.bottom <= 23 and panel.region.height >= 8
            loss = app.screen.query_one("#loss-plot")
            assert loss.region.width >= 24 and loss.region.height >= 11
    finally:
        i18n.set_language("en")


async def test_the_panel_flags_a_huge_learning_rate_as_exploding():
    kernel = FakeKernel()
    app = make_app(screen="train", kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        serve_engine(kernel)
        await start(pilot, {"task": "moons", "lr": "100000", "optimizer": "sgd", "epochs": "50"})
        screen = app.screen
        panel = screen.query_one(HealthPanel)
        assert await wait_for(pilot, lambda: not screen.running and panel.snapshot is not None, 60)
        snapshot = panel.snapshot
        assert snapshot is not None and snapshot.exploding_count > 0
        assert await wait_for(pilot, lambda: "exploding (> 1e3 or not finite)" in panel_text(app), 5), panel_text(app)
        assert "▲" in panel_text(app)


async def test_ctrl_g_shows_and_hides_the_panel_and_the_boundary_comes_back():
    kernel = FakeKernel()
    app = make_app(screen="train", kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        panel = screen.query_one(HealthPanel)
        assert not panel.display
        await pilot.press("ctrl+g")
        assert await wait_for(pilot, lambda: panel.display and panel.region.width > 0, 5)
        assert "Gradient health" in panel_text(app)
        await pilot.press("ctrl+g")
        assert await wait_for(pilot, lambda: not panel.display, 5)
