"""F1: every key of every screen, and the user's own keys."""

from __future__ import annotations

from tests.helpers import running, static_text, wait_for
from tui.app import TorchTUI, make_app
from tui.kernel.fake import FakeKernel
from tui.screens.help import HelpScreen


async def test_help_lists_every_screens_keys_from_bindings():
    app = make_app(kernel=FakeKernel())
    async with running(app, size=(80, 24)) as pilot:
        await pilot.press("f1")
        assert await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), 10), app.screen
        text = static_text(app.screen.query_one("#help-table"))
        for needle in ("Interrupt", "Grad check", "Pause/Resume", "Check", "ctrl+q", "f9"):
            assert needle in text, needle
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), 10)


async def test_user_keymap_moves_keys_and_f1_shows_them_with_their_ids():
    from tui.keymap import unknown_ids

    assert [w.code for w in unknown_ids({"app.help": "f10", "pg.nope": "x"}, TorchTUI)] == ["warn.keys.unknown"]
    app = make_app(keys={"app.help": "f10", "app.autograd": "f11", "pg.nope": "ctrl+k"},
                   kernel=FakeKernel())
    told: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (told.append(message), notify(message, **kw))  # type: ignore[method-assign]
    async with running(app, size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: any("pg.nope" in message for message in told), 10)
        await pilot.press("f1")  # no longer help (press returns once the key is handled)
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f10")
        assert await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), 5)
        assert sum(isinstance(s, HelpScreen) for s in app.screen_stack) == 1  # the f1 before opened none
        text = static_text(app.screen.query_one("#help-table"))
        rows = {line.split()[-1]: line.split()[0] for line in text.splitlines() if line.strip()}
        assert rows["app.help"] == "f10" and rows["app.autograd"] == "f11" and rows["pg.interrupt"] == "ctrl+c"
        assert "[keys]" in static_text(app.screen.query_one("#help-remap"))
        await pilot.press("escape")
        await pilot.press("f11")
        assert await wait_for(pilot, lambda: app.current_mode == "autograd", 5)


def test_learn_keys_are_listed_once_in_help():
    from tui.bindings import rows
    from tui.screens.learn import LearnScreen

    keys = [keys for keys, _, _, _ in rows(list(LearnScreen.BINDINGS))]
    assert "1-4" in keys and "2" not in keys and "3" not in keys and "4" not in keys
    assert len(keys) == len(set(keys))


async def test_f1_in_chinese_breaks_lines_as_chinese_at_80_columns():
    from tests.helpers import badly_broken, shown_lines
    from tui.bindings import rows

    app = make_app(lang="zh", kernel=FakeKernel())
    async with running(app, size=(80, 24)) as pilot:
        await pilot.press("f1")
        assert await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        table = app.screen.query_one("#help-table")
        assert await wait_for(pilot, lambda: any("KeyboardInterrupt" in line for line in shown_lines(table)), 10)
        lines = shown_lines(table)
        from tui.screens import SCREENS, screen_class

        words = " ".join(f"{desc} {tip}" for mode in SCREENS for _, desc, tip, _ in rows(screen_class(mode).BINDINGS))
        assert any("KeyboardInterrupt" in line for line in lines)
        assert not any(line.endswith("…") for line in lines)  # (Rich cut that row's text short)
        assert not badly_broken(lines, words), badly_broken(lines, words)
