"""One module per screen. Each is imported only when first shown, to keep start-up fast."""

from __future__ import annotations

from importlib import import_module

# mode name -> (module, class, key that opens it)
SCREENS: dict[str, tuple[str, str, str]] = {
    "playground": ("tui.screens.playground", "PlaygroundScreen", "f2"),
    "autograd": ("tui.screens.autograd", "AutogradScreen", "f3"),
    "train": ("tui.screens.training", "TrainingScreen", "f4"),
    "learn": ("tui.screens.learn", "LearnScreen", "f5"),
    "model": ("tui.screens.model", "ModelScreen", "f10"),  # (F6–F9 are screens' own keys)
    "gpu": ("tui.screens.gpu", "GpuScreen", "f12"),  # (F11 is many terminals' full screen)
}


def screen_class(mode: str):
    module, name, _key = SCREENS[mode]
    return getattr(import_module(module), name)


def factory(mode: str):
    """A callable for App.MODES that imports the screen's module on first use."""
    return lambda: screen_class(mode)()
