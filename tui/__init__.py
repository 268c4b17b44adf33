"""torchtui's terminal app (Textual). The PyTorch logic lives in the `engine` package.

What only some screens or moments need is imported where it is first used, never before the first
frame: each screen's module (tui.screens.SCREENS names them), jupyter_client and zmq (once the
frame is out), Pillow (a figure), nbformat (%save as a notebook), pygments (a cell's highlighting)
and the engine's plotting. The rest is imported at the top of each module.
"""
