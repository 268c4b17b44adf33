"""engine/tensorplot.py: %plot of a tensor as text."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow  # a kernel, or plain Python in a process of its own


def plain(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_plot_draws_1d_as_a_line_2d_as_a_heatmap_and_hist_with_shape_dtype_and_range(kernel):
    import torch

    line = kernel.run("%plot torch.linspace(-2, 5, 300) ** 2")
    assert line.ok, line.text()
    text = plain(line.output)
    assert "(300,) float32 cpu · 0" in text and "25" in text and "index" in text
    assert max(len(row) for row in text.splitlines()) <= 80
    assert any(ch in text for ch in "⠁⠂⠄⡀⢀⣀")  # drawn in braille dots

    grid = kernel.run("g = torch.arange(12.).reshape(3, 4)\n%plot g")
    assert grid.ok, grid.text()
    text = plain(grid.output)
    assert "g · (3, 4) float32 cpu · 0 … 11" in text and "rows 3 × columns 4" in text
    # a heatmap: every cell filled, darker to lighter as values grow (grey levels in the colours)
    greys = [int(m) for m in __import__("re").findall(r"38;2;(\d+);\1;\1m█", grid.output)]
    assert greys and min(greys) < 60 and max(greys) > 200

    hist = kernel.run("%plot torch.randn(5000, generator=torch.Generator().manual_seed(0)) --hist --bins 20")
    assert hist.ok, hist.text()
    assert "(5000,) float32" in plain(hist.output) and "value" in plain(hist.output)
    del torch


def test_plot_counts_nan_and_inf_and_handles_ints_empty_and_bad_input(kernel):
    holes = kernel.run("%plot torch.tensor([1., float('nan'), 3., float('inf'), 2.])")
    assert holes.ok and "2 NaN/Inf values left out" in plain(holes.output) and "1 … 3" in plain(holes.output)
    ints = kernel.run("%plot torch.arange(10)")
    assert ints.ok and "(10,) int64 cpu · 0 … 9" in plain(ints.output)
    for source, needle in [("%plot torch.zeros(0)", "is empty"),
                           ("%plot torch.ones(2, 3, 4)", "pick a slice such as"),
                           ("%plot torch.tensor(float('nan')).expand(3)", "only NaN or Inf"),
                           ("%plot not_defined_here", "NameError"),
                           ("%plot 'text'", "not a tensor"),
                           ("%plot", "usage: %plot EXPR"),
                           ("%plot x --colour red", "unknown option --colour")]:
        cell = kernel.run(source)
        assert needle in cell.error_text, (source, cell.text())
        assert "Traceback" not in cell.error_text and cell.error_text.count("\n") <= 2, cell.error_text
