"""input(), getpass and pdb in the Playground: the kernel's stdin requests answered from a prompt line."""

from tests.helpers import log_text, type_cell, wait_for
from tui.app import make_app


async def asked(pilot, app) -> bool:
    return await wait_for(pilot, lambda: app.screen.stdin.shown, 30)


async def test_input_and_getpass_are_answered_and_ctrl_c_cancels():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        await type_cell(pilot, "name = input('name? ')")
        assert await asked(pilot, app)
        field = screen.query_one("#stdin-input")
        assert app.focused is field and not screen.editor.display
        assert "name? " in str(screen.query_one("#stdin-label").content)
        await type_cell(pilot, "Ada")
        assert await wait_for(pilot, lambda: "name? Ada" in log_text(app))
        assert screen.editor.display and app.focused is screen.editor
        await type_cell(pilot, "name * 2")
        assert await wait_for(pilot, lambda: "Out[2]: 'AdaAda'" in log_text(app), 30)

        await type_cell(pilot, "import getpass; pw = getpass.getpass('pw: ')")
        assert await asked(pilot, app)
        assert field.password
        await type_cell(pilot, "s3cret")
        await type_cell(pilot, "len(pw)")
        assert await wait_for(pilot, lambda: "Out[4]: 6" in log_text(app), 30)
        assert "s3cret" not in log_text(app) and "pw: " in log_text(app)
        assert "s3cret" not in screen.stdin.history

        await type_cell(pilot, "input('wait: ')")
        assert await asked(pilot, app)
        await pilot.press("ctrl+c")
        assert await wait_for(pilot, lambda: "KeyboardInterrupt" in log_text(app), 20)
        assert not screen.stdin.shown and app.focused is screen.editor
        await type_cell(pilot, "name")
        assert await wait_for(pilot, lambda: "Out[6]: 'Ada'" in log_text(app), 30)

        await type_cell(pilot, "input('more? ')")
        assert await asked(pilot, app)
        assert "waits for your answer" in str(screen.query_one("#run-status").content)
        # the footer names the key in words, not by its translation key
        footer = screen.query_one("FittingFooter")
        assert await wait_for(pilot, lambda: any(getattr(key, "description", "") == "End of input"
                                                 for key in footer.children), 5)
        await pilot.press("x", "left", "ctrl+d")  # on a line with text: deletes, as in a shell
        assert field.value == "" and screen.stdin.shown
        await pilot.press("ctrl+d")  # on an empty line: end of file
        assert await wait_for(pilot, lambda: "EOFError" in log_text(app), 20)


STEPPED_LOOP = """loss = 8.0
for step in range(3):
    if step == 0:
        breakpoint()
    loss = loss / 2
print('final', loss)"""


async def test_a_pdb_session_steps_through_a_loop():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: app.kernel.ready, 60)
        screen.run_source(STEPPED_LOOP)
        assert await asked(pilot, app)
        assert "ipdb> " in str(screen.query_one("#stdin-label").content)
        await type_cell(pilot, "n")  # runs `loss = loss / 2`
        assert await asked(pilot, app)
        await type_cell(pilot, "p loss")
        assert await wait_for(pilot, lambda: "\n4.0" in log_text(app), 20), log_text(app)
        assert await asked(pilot, app)
        await pilot.press("up")
        assert screen.query_one("#stdin-input").value == "p loss"  # the answers' history
        await pilot.press("ctrl+u")
        await type_cell(pilot, "c")
        assert await wait_for(pilot, lambda: "final 1.0" in log_text(app), 20), log_text(app)
        assert await wait_for(pilot, lambda: app.kernel.running is None and not screen.stdin.shown)
        assert app.focused is screen.editor
