"""tui/app.py: start-up, the screen keys, the palette, a too-small terminal, keys typed in a burst, footers."""

from __future__ import annotations

import subprocess
import sys

import pytest
from textual import events

from tests.helpers import log_text, running, screen_ready, wait_for
from tui.app import make_app
from tui.kernel.fake import FakeKernel


def fake_app(**options):
    """The app on an in-process kernel: what these tests check is the app's, not the kernel's."""
    return make_app(kernel=FakeKernel(), **options)


async def test_starts_loading_then_shows_torch_and_device():
    app = fake_app()
    async with running(app, size=(80, 24)) as pilot:
        assert app.current_mode == "playground"
        assert "starting the kernel" in app.status_text
        # (the kernel is ready before the app has handled its news: wait for what the line says)
        assert await wait_for(pilot, lambda: app.kernel.ready and app.status_text.startswith("torch "), 60)
        assert " · cpu" in app.status_text


async def test_function_keys_switch_screens():
    app = fake_app()
    async with running(app, size=(80, 24)) as pilot:
        for key, mode in (("f3", "autograd"), ("f4", "train"), ("f5", "learn"), ("f2", "playground")):
            await pilot.press(key)
            assert await wait_for(pilot, lambda mode=mode: app.current_mode == mode, 10), (key, app.current_mode)


async def test_palette_offers_screens_and_their_actions():
    app = fake_app()
    async with running(app, size=(80, 24)) as pilot:
        assert await screen_ready(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for screen in ("Playground", "Autograd", "Training", "Learn"):
            assert f"Open {screen}" in titles
        assert "Training: Start" in titles and "Playground: Restart" in titles
        await pilot.press("ctrl+p")
        assert await wait_for(pilot, lambda: app.screen.__class__.__name__ == "CommandPalette", 10), app.screen


async def test_too_small_terminal_shows_a_message_and_recovers():
    app = fake_app()
    async with running(app, size=(80, 24)) as pilot:
        await pilot.resize_terminal(60, 20)
        assert await wait_for(pilot, lambda: app.screen.has_class("-too-small"), 10)
        assert app.screen.query_one("#too-small").display
        await pilot.resize_terminal(80, 24)
        assert await wait_for(pilot, lambda: not app.screen.has_class("-too-small"), 10)


async def test_chinese_ui_text():
    app = fake_app(lang="zh")
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.screen.query("#status-line")
                              and app.screen.query_one("#status-line").title == "练习场", 10)


@pytest.mark.slow  # a Python process per module
def test_engine_imports_without_textual():
    modules = ["engine", "engine.devices", "engine.tensors", "engine.autograd", "engine.grad_examples",
               "engine.training", "engine.exports", "engine.repl", "engine.kernel", "engine.wire", "engine.tour",
               "engine.plotdata", "engine.paths", "engine.grad_text", "engine.words", "engine.headless.train",
               "engine.headless.grad"]
    for module in modules:
        code = f"import sys, {module}; assert 'textual' not in sys.modules, {module!r}"
        subprocess.run([sys.executable, "-c", code], check=True)


async def test_focus_comes_back_after_the_terminal_was_too_small():
    app = fake_app()
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        editor = app.screen.editor
        await pilot.resize_terminal(60, 20)
        assert await wait_for(pilot, lambda: app.screen.has_class("-too-small"), 10)
        await pilot.press("7", "*", "6", "enter")  # typed while too small: kept for the editor
        await pilot.resize_terminal(80, 24)
        await pilot.press("2", "*")  # typed at once after the resize back: kept too
        assert await wait_for(pilot, lambda: app.focused is editor, 10), app.focused
        await pilot.press("1", "+", "1", "enter")
        assert await wait_for(pilot, lambda: "Out[1]: 42" in log_text(app), 30), log_text(app)
        assert await wait_for(pilot, lambda: "Out[2]: 3" in log_text(app), 30), log_text(app)  # 2*1+1


async def test_a_burst_of_keys_acts_on_the_widget_focused_after_the_keys_before_it():
    app = fake_app(screen="train")
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.keys_ready, 60)  # focus is where the screen put it
        bias = screen.query_one("#f-bias")
        bias.focus()
        assert await wait_for(pilot, lambda: app.focused is bias, 10), app.focused
        # all at once, as tmux send-keys or an SSH connection delivers them
        for key, char in [("tab", None), ("tab", None), ("tab", None), ("ctrl+a", None), ("ctrl+k", None),
                          ("3", "3"), ("0", "0"), ("0", "0"), ("0", "0")]:
            app.post_message(events.Key(key, char))
        assert await wait_for(pilot, lambda: screen.query_one("#f-epochs").value == "3000", 5)
        assert screen.query_one("#f-bias").value == "1.5"
        assert app.focused is screen.query_one("#f-epochs")


async def test_footers_show_whole_keys_only_in_both_languages():
    from rich.cells import cell_len

    from tui.screens import SCREENS

    for lang in ("en", "zh"):
        for mode in SCREENS:
            app = fake_app(screen=mode, lang=lang)
            async with running(app, size=(80, 24)) as pilot:
                assert await wait_for(pilot, lambda app=app: app.screen.ready, 60)

                def footer_keys(app=app):
                    footer = app.screen.query_one("FittingFooter")
                    return [w for w in footer.children if hasattr(w, "key_display")]

                def fitted(app=app) -> bool:  # the first frame shows every key; the resize that follows trims
                    keys = footer_keys()
                    return ("f1" in {w.key for w in keys} and sum(w.region.width for w in keys) <= 80
                            and all(w.region.width >= cell_len(f"{w.key_display} {w.description}".strip())
                                    for w in keys))

                await wait_for(pilot, fitted, 30)
                keys = footer_keys()
                shown = {w.key for w in keys}
                assert "f1" in shown, (lang, mode)
                used = sum(w.region.width for w in keys)
                assert used <= 80, (lang, mode)
                for w in keys:  # each key drawn whole: its region holds its full label
                    label = f"{w.key_display} {w.description}".strip()
                    assert w.region.width >= cell_len(label), (lang, mode, label)


@pytest.mark.slow  # the kernel process itself
async def test_the_kernel_and_its_threads_go_with_the_app():
    import threading

    before = set(threading.enumerate())
    app = make_app()
    async with running(app, size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        process = app.kernel.km.provisioner.process  # type: ignore[union-attr]
        assert process.poll() is None
    assert process.poll() is not None  # the kernel process ended with the app
    # (the event loop's own executor threads end with the loop, after the test)
    left = [t.name for t in threading.enumerate() if t not in before and not t.name.startswith("asyncio_")]
    assert left == []


async def test_a_failing_worker_of_the_app_is_said_not_swallowed():
    app = fake_app()
    told: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (told.append(message), notify(message, **kw))  # type: ignore[method-assign]
    async with running(app, size=(80, 24)) as pilot:
        async def broken() -> None:
            raise ValueError("kaput")

        app.run_worker(broken(), name="probe", exit_on_error=False)
        assert await wait_for(pilot, lambda: any("probe" in m and "ValueError: kaput" in m for m in told), 10), told
        assert app.is_running  # said, and the app goes on
