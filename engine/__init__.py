"""torchtui's engine: the PyTorch side of the app as plain Python, usable without any UI.

Importing this package is cheap: torch is imported only by the modules that need it, and only
when they are used, so the terminal app can draw its first frame while torch loads.
"""

__version__ = "0.1.0"
