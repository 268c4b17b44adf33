"""torchtui's engine: the PyTorch side of the app as plain Python, usable without any UI.

Importing this package is cheap: torch is imported only by the modules that need it, and only
when they are used, so the terminal app can draw its first frame while torch loads.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    # The version is pyproject.toml's, read from the installed package's metadata when asked for
    # (importlib.metadata costs milliseconds that start-up need not pay).
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("torchtui")
        except PackageNotFoundError:  # a source tree that was never installed
            return "unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
