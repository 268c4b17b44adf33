"""The UI process never imports torch, and leaves no kernel behind."""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow  # the app in a process of its own

DRIVE_EVERY_SCREEN = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, "tests")
    from helpers import running, screen_ready, wait_for
    from tui.app import make_app

    async def main():
        app = make_app()
        async with running(app, size=(80, 24)) as pilot:
            await pilot.press(*"x = torch.ones(2, requires_grad=True)", "enter")
            await pilot.press(*"%autograd (x * 3).sum()", "enter")
            assert await wait_for(pilot, lambda: app.current_mode == "autograd", 60)
            assert await wait_for(pilot, lambda: app.screen.recording is not None, 60)
            grad = app.screen
            await pilot.press("g", "enter")  # the gradient check, then the values
            assert await wait_for(pilot, lambda: bool(grad.check_text), 60)
            assert await wait_for(pilot, lambda: type(app.screen).__name__ == "ValuesScreen", 30)
            await pilot.press("escape", "f4")
            await screen_ready(pilot)
            app.screen.query_one("#f-epochs").value = "5"
            await pilot.press("ctrl+r")
            assert await wait_for(pilot, lambda: app.screen.result is not None, 120)
            await pilot.press("f5")
            await screen_ready(pilot)
            learn = app.screen
            await pilot.press("c")
            assert await wait_for(pilot, lambda: learn.feedback is not None, 60)
            await pilot.press("f2")
            assert await wait_for(pilot, lambda: app.current_mode == "playground", 30)
            await screen_ready(pilot)
            await pilot.press(*"%model trained_model", "enter")  # the Model view, on the run's model
            assert await wait_for(pilot, lambda: app.current_mode == "model", 60)
            assert await wait_for(pilot, lambda: app.screen.summary is not None, 60)
            await pilot.press("f2")
            assert await wait_for(pilot, lambda: app.current_mode == "playground", 30)
            pid = app.kernel.km.provisioner.process.pid
        print("torch" in sys.modules, pid)

    asyncio.run(main())
""")


def test_ui_process_never_imports_torch_and_its_kernel_goes_with_it(tmp_path):
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", DRIVE_EVERY_SCREEN], capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    imported, pid = out.stdout.split()
    assert imported == "False"
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
