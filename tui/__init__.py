"""torchtui's terminal app (Textual). The PyTorch logic lives in the `engine` package."""
