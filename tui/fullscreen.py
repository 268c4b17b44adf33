"""Run the full-screen app: `torchtui` and `torchtui train` (without --headless) both start here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.i18n import Said
    from engine.training import RunConfig


def run_app(screen: str, device: str, lang: str, warnings: tuple[Said, ...] = (), theme: str | None = None,
            train_config: RunConfig | None = None, existing=None, keys: Mapping[str, str] | None = None) -> int:
    """Run the app until it ends; its kernel process goes with it however it ends (an attached
    kernel, someone else's, is left running)."""
    from tui import graphics
    from tui.app import make_app

    graphics.prepare()  # before the app reads keys: the terminal's answer comes on stdin
    app = make_app(screen=screen, device=device, lang=lang, warnings=warnings, theme=theme,
                   train_config=train_config, existing=existing, keys=keys)
    try:
        app.run()
    finally:
        app.kill_kernel_now()  # only acts if an orderly shutdown did not happen
    return app.return_code or 0
