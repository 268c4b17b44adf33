import subprocess
import sys

import pytest

from tests.helpers import static_text, wait_for
from tui.app import make_app
from tui.screens.help import HelpScreen


async def test_starts_loading_then_shows_torch_and_device():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.current_mode == "playground"
        assert "starting the kernel" in app.status_text
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        assert app.status_text.startswith("torch ") and " · cpu" in app.status_text


async def test_function_keys_switch_screens():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for key, mode in (("f3", "autograd"), ("f4", "train"), ("f5", "learn"), ("f2", "playground")):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.current_mode == mode


async def test_help_lists_every_screens_keys_from_bindings():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)
        text = static_text(app.screen.query_one("#help-table"))
        for needle in ("Interrupt", "Grad check", "Pause/Resume", "Check", "ctrl+q", "f9"):
            assert needle in text, needle
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_offers_screens_and_their_actions():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for screen in ("Playground", "Autograd", "Training", "Learn"):
            assert f"Open {screen}" in titles
        assert "Training: Start" in titles and "Playground: Restart" in titles
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        assert app.screen.__class__.__name__ == "CommandPalette"


async def test_too_small_terminal_shows_a_message_and_recovers():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.resize_terminal(60, 20)
        await pilot.pause(0.2)
        assert app.screen.has_class("-too-small")
        assert app.screen.query_one("#too-small").display
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        assert not app.screen.has_class("-too-small")


async def test_chinese_ui_text():
    app = make_app(lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        assert app.screen.query_one("#status-line").title == "练习场"


def test_engine_imports_without_textual():
    modules = ["engine", "engine.devices", "engine.tensors", "engine.autograd", "engine.grad_examples",
               "engine.training", "engine.exports", "engine.repl", "engine.kernel", "engine.wire", "engine.tour",
               "engine.plotdata", "engine.config", "engine.paths", "engine.grad_text"]
    for module in modules:
        code = f"import sys, {module}; assert 'textual' not in sys.modules, {module!r}"
        subprocess.run([sys.executable, "-c", code], check=True)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args,needle", [
    (["--device", "gpu"], "unknown device 'gpu'"),
    (["--device", "cuda:7"], "available: cpu"),
    (["--screen", "nope"], "invalid choice"),
    (["--bogus"], "unrecognized arguments"),
    (["grad", "--example", "nope"], "examples: scalar, matrix, mlp, accumulate, detach"),
])
def test_cli_bad_input_is_one_line_and_exit_2(args, needle):
    import torch

    if "cuda" in " ".join(args) and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = cli(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in out.stderr


def test_cli_version():
    out = cli("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("torchtui ") and "torch 2." in out.stdout and "CUDA available:" in out.stdout


def test_grad_cli_prints_the_walk():
    out = cli("grad", "--example", "scalar")
    assert out.returncode == 0
    assert "w.grad = tensor(80.)" in out.stdout and "b.grad = tensor(16.)" in out.stdout
    assert "16 × 5 = 80" in out.stdout


async def test_user_keymap_moves_keys_and_f1_shows_them_with_their_ids():
    from tui.keymap import unknown_ids

    assert [w.code for w in unknown_ids({"app.help": "f10", "pg.nope": "x"})] == ["warn.keys.unknown"]
    app = make_app(keys={"app.help": "f10", "app.autograd": "f11", "pg.nope": "ctrl+k"})
    told: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (told.append(message), notify(message, **kw))  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: any("pg.nope" in message for message in told), 10)
        await pilot.press("f1")  # no longer help
        await pilot.pause(0.1)
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f10")
        assert await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), 5)
        text = static_text(app.screen.query_one("#help-table"))
        rows = {line.split()[-1]: line.split()[0] for line in text.splitlines() if line.strip()}
        assert rows["app.help"] == "f10" and rows["app.autograd"] == "f11" and rows["pg.interrupt"] == "ctrl+c"
        assert "[keys]" in static_text(app.screen.query_one("#help-remap"))
        await pilot.press("escape")
        await pilot.press("f11")
        assert await wait_for(pilot, lambda: app.current_mode == "autograd", 5)
