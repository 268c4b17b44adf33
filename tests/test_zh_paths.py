"""Wholly Chinese off the main road: with --lang zh, the command palette and its commands, F1 on
each screen, Training's export dialog after a run, and the error paths (a cell that raises, a bad
value in the Training form, a failed %autograd, a warning notification) show no English prose
(the detector and the screen reader are test_zh.py's)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import log_text, running, screen_ready, type_cell, wait_for
from tests.test_zh import code_lines, english_sentences, prose_in, screen_lines
from tui.app import make_app

LIBRARY_MESSAGE = re.compile(r"^[A-Za-z_.]*(?:Error|Exception|Interrupt): ")


def _named(app, name: str) -> bool:
    return type(app.screen).__name__ == name


def chinese_app(kernel=None):
    code = code_lines()
    app = make_app(lang="zh", device="cpu", kernel=kernel)
    found: dict[str, list[str]] = {}

    def look(where: str) -> None:
        # An exception's own message is the library's words, as plain Python prints them (torch's
        # "index 5 is out of bounds…"), like dtype and device names; everything around it is ours.
        raised = {sentence for line in screen_lines(app) if LIBRARY_MESSAGE.match(line.strip(" │▕▏▌▐┃"))
                  for sentence in english_sentences(line.strip(" │▕▏▌▐┃"))}
        bad = [sentence for sentence in prose_in(app, code) if sentence not in raised]
        if bad:
            found[where] = bad

    return app, found, look


async def test_palette_help_export_and_errors_in_chinese_show_no_english_prose():
    """On an in-process kernel with the engine's answers (the training run, its refusals)."""
    from tests.engine_in_process import engine_kernel, serve_engine

    kernel = engine_kernel()
    serve_engine(kernel)
    app, found, look = chinese_app(kernel)

    async def notified(before: int) -> bool:
        return await wait_for(pilot, lambda: len(app._notifications) > before, 10)

    async with running(app, size=(160, 60)) as pilot:
        assert await screen_ready(pilot)
        assert await wait_for(pilot, lambda: app.kernel.ready, 120)

        await pilot.press("ctrl+p")  # the palette: its list of commands
        assert await wait_for(pilot, lambda: _named(app, "CommandPalette"), 10)
        assert await wait_for(pilot, lambda: app.screen.query("CommandList")
                              and app.screen.query_one("CommandList").option_count > 0, 10)
        await pilot.pause()
        look("palette")
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: not _named(app, "CommandPalette"), 10)

        before = len(app._notifications)
        await pilot.press("f8")  # no figure yet: a warning
        assert await notified(before)
        await pilot.pause()
        look("notification: no figure")

        for key, name in (("f2", "PlaygroundScreen"), ("f3", "AutogradScreen"), ("f4", "TrainingScreen"),
                          ("f5", "LearnScreen")):
            await pilot.press(key)
            assert await wait_for(pilot, lambda name=name: _named(app, name), 10), name
            assert await screen_ready(pilot)
            await pilot.press("f1")
            assert await wait_for(pilot, lambda: _named(app, "HelpScreen"), 10), name
            await pilot.pause()
            look(f"help on {name}")
            await pilot.press("escape")
            assert await wait_for(pilot, lambda name=name: _named(app, name), 10), name

        await pilot.press("f4")
        assert await wait_for(pilot, lambda: _named(app, "TrainingScreen"), 10)
        training = app.screen
        for field, value in (("#f-epochs", "abc"), ("#f-batch", "0")):
            if training.query(field):
                training.query_one(field).value = value
                assert await wait_for(pilot, lambda field=field: training.query_one(field).has_class("-bad"), 10)
                await pilot.pause()
                look(f"training/bad {field}")
        before = len(app._notifications)
        await pilot.press("ctrl+r")  # a bad form: said, not run
        await wait_for(pilot, lambda: len(app._notifications) > before, 5)
        await pilot.pause()
        look("training/run with a bad form")
        from engine.training import defaults

        training.set_config(defaults("regression"))
        training.query_one("#f-epochs").value = "3"
        training.query_one("#f-device").value = "cpu"
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: training.result is not None, 120)
        await pilot.press("f9")
        assert await wait_for(pilot, lambda: _named(app, "ExportScreen"), 10)
        await pilot.pause()
        look("training/export dialog")
        await pilot.press("escape")
    assert not found, "\n".join(f"{where}: {bad}" for where, bad in found.items())


@pytest.mark.slow  # a kernel process: see the docstring
async def test_the_kernels_errors_in_chinese_show_no_english_prose():
    """On a real kernel: a cell's error is shown as the kernel's extension formats it, and
    %autograd (its refusals too) is the kernel's magic; a fake does neither."""
    app, found, look = chinese_app()
    async with running(app, size=(160, 60)) as pilot:
        assert await screen_ready(pilot)
        assert await wait_for(pilot, lambda: app.kernel.ready, 120)
        for cell in ("undefined_name", "1 / 0", "torch.zeros(2)[5]", "%autograd torch.ones(2)", "%autograd nope"):
            before = len(log_text(app))
            await type_cell(pilot, cell)
            assert await wait_for(pilot, lambda before=before: len(log_text(app)) > before + 20
                                  and app.kernel.running is None and not app.kernel.queued, 30), cell
            if not _named(app, "PlaygroundScreen"):  # a %autograd that worked opened the inspector
                await pilot.press("f2")
                assert await wait_for(pilot, lambda: _named(app, "PlaygroundScreen"), 10)
            await pilot.pause()
            look(f"playground: {cell}")
    assert not found, "\n".join(f"{where}: {bad}" for where, bad in found.items())
