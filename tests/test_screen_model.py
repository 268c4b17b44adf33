"""F10 Model: a namespace's nn.Module as a tree, on the fake kernel with the engine's own handlers
(no kernel process); %model through a real kernel at the end."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from engine.protocol import ModelShown, decode_event, encode_event
from tests.engine_in_process import engine_kernel, serve_engine
from tests.helpers import running, static_text, wait_for
from tests.test_zh import english_sentences, screen_lines
from tui.app import make_app


def mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def served(**names):
    kernel = engine_kernel()
    kernel.namespace.update(names)
    serve_engine(kernel)
    return kernel


def tree_lines(screen) -> list[str]:
    """Every label of the tree, as text, in order (expanded or not)."""
    tree = screen.query_one("#mv-tree")
    out = []

    def walk(node) -> None:
        out.append(str(node.label))
        for child in node.children:
            walk(child)

    walk(tree.root)
    return out


def totals(screen) -> str:
    return static_text(screen.query_one("#mv-totals"))


async def give_input(pilot, screen, source: str) -> None:
    field = screen.query_one("#mv-input")
    field.focus()
    field.value = ""
    await pilot.press(*[{" ": "space", ",": "comma"}.get(c, c) for c in source])
    await pilot.press("enter")


async def test_f10_shows_the_first_model_and_an_input_gives_every_layers_shape():
    kernel = served(net=mlp())
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 30)
        await pilot.press("f10")
        assert await wait_for(pilot, lambda: app.current_mode == "model" and app.screen.summary is not None, 30)
        screen = app.screen
        assert "net · Sequential · 67 parameters (67 trainable, 0 frozen) · 268 B · cpu" in totals(screen)
        assert await wait_for(pilot, lambda: len(tree_lines(screen)) == 4)
        assert tree_lines(screen)[1] == "0 Linear  (8, 4) (8,)  40  160 B"
        assert screen.query_one("#mv-name").value == "net"
        await give_input(pilot, screen, "(32, 4)")
        assert await wait_for(pilot, lambda: "→ (32, 3)" in " ".join(tree_lines(screen)), 30)
        assert [line.split("→ ")[1] for line in tree_lines(screen)[1:]] == ["(32, 8)", "(32, 8)", "(32, 3)"]
        assert "input (32, 4) float32 → output (32, 3) float32" in totals(screen)
        assert app.focused is screen.query_one("#mv-tree")
        await pilot.press("down")  # the highlighted layer's details
        detail = static_text(screen.query_one("#mv-detail"))
        assert "weight (8, 4) float32" in detail and "output (32, 8) float32" in detail and "train mode" in detail
        # the model was only looked at
        net = kernel.namespace["net"]
        assert net.training and all(p.grad is None for p in net.parameters())
        assert not any(m._forward_hooks or m._forward_pre_hooks for m in net.modules())


async def test_a_bad_input_is_one_sentence_over_the_tree_and_gradients_show_after_a_backward():
    kernel = served(net=mlp())
    app = make_app(screen="model", kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.summary is not None, 30)
        await give_input(pilot, screen, "(32, 5)")
        assert await wait_for(pilot, lambda: "rejected" in totals(screen), 30)
        words = totals(screen)
        assert "net rejected the input (32, 5) float32 at 0 (Linear)" in words and "Traceback" not in words
        assert screen.query_one("#mv-totals").has_class("-input-error")
        assert len(tree_lines(screen)) == 4  # the layers stay in view while the input is fixed
        net = kernel.namespace["net"]
        net(torch.randn(8, 4)).pow(2).sum().backward()
        await give_input(pilot, screen, "(2, 4)")
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: "‖grad‖" in " ".join(tree_lines(screen)), 30)
        assert not screen.query_one("#mv-totals").has_class("-input-error")
        whole = float(torch.cat([p.grad.flatten() for p in net.parameters()]).norm())
        assert f"‖grad‖ {whole:.3g}" in tree_lines(screen)[0]


async def test_the_picker_lists_the_namespaces_modules_and_picking_one_shows_it():
    kernel = served(net=mlp(), other=nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()))
    app = make_app(screen="model", kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.summary is not None, 30)
        picker = screen.query_one("#mv-name")
        assert screen.names == (("net", "Sequential"), ("other", "Sequential"))
        picker.value = "other"
        assert await wait_for(pilot, lambda: screen.summary.name == "other", 30)
        assert tree_lines(screen)[1].startswith("0 Conv2d  (2, 1, 3, 3) (2,)  20")


async def test_with_no_model_the_view_says_how_to_make_one():
    app = make_app(screen="model", kernel=served())
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: "There is no nn.Module" in totals(screen), 30)


async def test_model_shown_from_the_kernel_opens_the_view_on_its_summary():
    from engine.model_view import describe_in

    kernel = served(net=mlp())
    app = make_app(kernel=kernel)
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 30)
        summary = describe_in(kernel.namespace, "net, (3, 4)")
        kernel.send(decode_event(json.loads(json.dumps(encode_event(ModelShown(summary))))))
        assert await wait_for(pilot, lambda: app.current_mode == "model" and app.screen.summary == summary, 30)
        screen = app.screen
        assert await wait_for(pilot, lambda: "→ (3, 3)" in tree_lines(screen)[-1])
        assert screen.query_one("#mv-input").value == "(3, 4)"


async def test_f6_opens_and_closes_every_layer():
    deep = nn.Sequential(*(nn.Sequential(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), nn.Tanh()) for _ in range(30)))
    app = make_app(screen="model", kernel=served(deep=deep))
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.summary is not None, 30)
        tree = screen.query_one("#mv-tree")
        inner = tree.root.children[0].children[0]  # depth 2: a big model opens two levels only
        assert tree.root.children[0].is_expanded and not inner.is_expanded
        await pilot.press("f6")
        assert inner.is_expanded
        await pilot.press("f6")
        assert not tree.root.children[0].is_expanded and tree.root.is_expanded


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_at_80x24_the_tree_has_room_and_speaks_the_readers_language(lang):
    model = nn.Sequential()
    model.add_module("encoder", nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU()))
    model.add_module("head", nn.Sequential(nn.Dropout(0.1), nn.Linear(32, 10)))
    app = make_app(screen="model", lang=lang, kernel=served(model=model))
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.summary is not None, 30)
        await give_input(pilot, screen, "(64, 16)")
        # (drawn: the screenshot shows the last layer's shape)
        assert await wait_for(pilot, lambda: "→ (64, 10)" in "\n".join(screen_lines(app)), 30)
        tree = screen.query_one("#mv-tree")
        assert tree.scrollable_content_region.height >= 10  # every layer of this model in view at once
        shown = "\n".join(screen_lines(app))
        for line in ("encoder Sequential", "0 Linear  (32, 16) (32,)  544  2.1 KiB  → (64, 32)",
                     "1 Linear  (10, 32) (10,)  330  1.3 KiB  → (64, 10)"):
            assert line in shown, shown
        if lang == "zh":
            assert "个参数（可训练 1,930，冻结 0）" in shown and "输入 (64, 16) float32" in shown, shown
            assert not english_sentences(shown), english_sentences(shown)
        assert all(len(line.rstrip()) <= 80 for line in screen_lines(app))


async def test_the_palette_opens_the_model_view():
    app = make_app(kernel=served(net=mlp()))
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.screen.ready, 30)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Open Model" in titles


async def test_after_a_training_run_f7_gives_the_runs_first_batch():
    """A learner's way to it: train on F4, open F10 on trained_model, press F7 (the input says
    @batch), and each layer shows its output for the run's own first batch."""
    from engine.training import make_config, make_data

    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # (the run's thread shares this process's cores with the app)
    kernel = served()
    app = make_app(screen="train", kernel=kernel)
    try:
        async with running(app, size=(80, 24)) as pilot:
            screen = app.screen
            assert await wait_for(pilot, lambda: screen.ready and app.kernel.ready, 60)
            screen.query_one("#f-epochs").value = "3"
            await pilot.pause(0.05)
            await pilot.press("ctrl+r")
            assert await wait_for(pilot, lambda: screen.result is not None, 120)
            cfg = make_config(task=screen.config.task, epochs=3)
            await pilot.press("f10")
            assert await wait_for(pilot, lambda: app.current_mode == "model" and app.screen.summary is not None, 30)
            view = app.screen
            assert view.summary.name == "trained_model"
            await pilot.press("f7")
            assert await wait_for(pilot, lambda: view.summary.input_text == "@batch", 30)
            assert view.query_one("#mv-input").value == "@batch"
            first = make_data(cfg).x[:cfg.batch_size]  # the oracle: the run's data, made again from its seed
            shape = "(" + ", ".join(str(d) for d in first.shape) + ")"
            assert view.summary.input_shape == f"{shape} float32", totals(view)
            assert f"input {shape} float32 → output ({cfg.batch_size}, 1) float32" in totals(view)
            assert all(len(line.rstrip()) <= 80 for line in screen_lines(app))
    finally:
        torch.set_num_threads(torch_threads)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_input_field_offers_the_runs_batch_and_before_a_run_f7_says_why_not(lang):
    app = make_app(screen="model", lang=lang, kernel=served(net=mlp()))
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.summary is not None, 30)
        hint = screen.query_one("#mv-input").placeholder
        assert hint.startswith("@batch") and "f7" in hint
        assert "@batch" in "\n".join(screen_lines(app))  # the hint's start is in view at 80 columns
        assert await wait_for(pilot, lambda: "f7" in screen_lines(app)[-1], 10)  # and its key in the footer
        await pilot.press("f7")
        assert await wait_for(pilot, lambda: screen.summary.input_error is not None, 30)
        words = totals(screen)
        said = ("There is no Training run's data for @batch" if lang == "en" else "@batch 没有可读的训练数据")
        assert said in words and "Traceback" not in words, words
        assert len(tree_lines(screen)) == 4  # the layers stay in view
        shown = "\n".join(screen_lines(app))
        assert all(len(line.rstrip()) <= 80 for line in screen_lines(app))
        if lang == "zh":
            assert not english_sentences(shown), english_sentences(shown)


async def test_a_remapped_key_is_the_one_the_hint_names():
    app = make_app(screen="model", keys={"mv.batch": "ctrl+b"}, kernel=served(net=mlp()))
    async with running(app, size=(100, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.summary is not None, 30)
        assert "(ctrl+b)" in screen.query_one("#mv-input").placeholder
        await pilot.press("ctrl+b")
        assert await wait_for(pilot, lambda: screen.summary.input_text == "@batch", 30)
