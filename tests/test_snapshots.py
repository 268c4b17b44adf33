"""Pictures of each screen at 80x24 (the size over SSH) and 120x40, in English and Chinese
(pytest-textual-snapshot). Refresh with --snapshot-update."""

import pytest

from tests.helpers import log_text, screen_ready, wait_for
from tui.app import make_app

pytestmark = pytest.mark.slow  # the app and its kernel

SIZE = (80, 24)
EVERY = pytest.mark.parametrize("size,lang", [((80, 24), "en"), ((80, 24), "zh"), ((120, 40), "en"),
                                              ((120, 40), "zh")])


async def settle(pilot) -> None:
    """Wait for torch, then pin the version-dependent part of the status line."""
    app = pilot.app
    await screen_ready(pilot)
    await wait_for(pilot, lambda: app.kernel.ready, 60)
    await wait_for(pilot, lambda: app.kernel.ready, 60)
    app.status_text = "torch · cpu"
    from textual.widgets import Input, TextArea

    for field in app.screen.query(Input).results():
        field.cursor_blink = False  # a blinking cursor makes two pictures
    for field in app.screen.query(TextArea).results():
        field.cursor_blink = False
    await pilot.pause(0.2)


@EVERY
def test_playground(snap_compare, size, lang):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("ctrl+l")
        await pilot.press(*"torch.arange(6).reshape(2, 3)")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Out[1]" in log_text(pilot.app))
        await pilot.pause(0.3)

    assert snap_compare(make_app(lang=lang), terminal_size=size, run_before=run_before)


@EVERY
def test_autograd_scalar(snap_compare, size, lang):
    async def run_before(pilot):
        await settle(pilot)
        await wait_for(pilot, lambda: pilot.app.screen.recording is not None)
        await pilot.press("n", "n", "n")
        await pilot.pause(0.2)

    assert snap_compare(make_app(screen="autograd", lang=lang), terminal_size=size, run_before=run_before)


@EVERY
def test_training_form(snap_compare, size, lang):
    assert snap_compare(make_app(screen="train", lang=lang), terminal_size=size, run_before=settle)


@EVERY
def test_learn_chapter_list(snap_compare, size, lang):
    assert snap_compare(make_app(screen="learn", lang=lang), terminal_size=size, run_before=settle)


def test_help(snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause(0.2)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
