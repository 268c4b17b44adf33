"""engine/plotdata.py: what the plots are drawn from (downsampling, ranges, ticks, logs, smoothing)."""

from __future__ import annotations

import pytest


def test_axis_numbers_are_compact_and_ranges_ignore_what_is_not_finite():
    from engine.plotdata import clip, compact, finite, value_range

    assert compact(5.75e26) == "5.8e+26" and compact(1786.5) == "1786.5" and compact(0.0123) == "0.0123"
    assert finite([1, 2, 3], [1.0, float("inf"), float("nan")]) == ([1], [1.0])
    low, high = value_range([10.0, 20.0, float("inf")])
    assert low < 10 < 20 < high < 21
    assert clip([1e27, 5.0], 0.0, 30.0) == [30.0, 5.0]


def test_downsampling_keeps_every_spike_and_at_most_two_points_a_bin():
    from engine.plotdata import downsample

    ys = [0.0] * 10_000
    ys[1234], ys[8765] = 50.0, -7.0
    xs = [float(i) for i in range(len(ys))]
    out_x, out_y = downsample(xs, ys, 100)
    assert len(out_y) <= 200 and max(out_y) == 50.0 and min(out_y) == -7.0
    assert out_x == sorted(out_x) and out_x[out_y.index(50.0)] == 1234.0  # at its own x, in order
    assert downsample([1.0, 2.0], [3.0, 4.0], 100) == ([1.0, 2.0], [3.0, 4.0])  # few points: as they are


def test_smoothing_is_an_exponential_moving_average():
    from engine.plotdata import smooth

    assert smooth([]) == []
    assert smooth([1.0, 1.0, 1.0]) == [1.0, 1.0, 1.0]
    assert smooth([0.0, 10.0], weight=0.8) == pytest.approx([0.0, 2.0])  # 0.8·0 + 0.2·10


def test_logs_of_a_loss_that_reached_zero_stay_finite():
    import math

    from engine.plotdata import log10

    assert log10([100.0, 0.1]) == [2.0, -1.0]
    assert log10([10.0, 0.0, -3.0]) == [1.0, 1.0, 1.0]  # the smallest positive value stands in
    assert all(math.isfinite(v) for v in log10([0.0, 0.0]))


def test_subsample_indices_are_spread_and_bounded():
    from engine.plotdata import subsample_indices

    assert subsample_indices(5, 10) == [0, 1, 2, 3, 4]
    picked = subsample_indices(1000, 10)
    assert len(picked) == 10 and picked[0] == 0 and picked == sorted(set(picked)) and picked[-1] == 900


def test_ticks_span_the_range_with_compact_labels():
    from engine.plotdata import ticks, value_range

    values, labels = ticks(0.0, 3.0)
    assert values == [0.0, 1.0, 2.0, 3.0] and labels == ["0", "1", "2", "3"]
    assert ticks(2.0, 2.0) == ([2.0], ["2"])  # a flat series: one tick
    assert value_range([float("nan")]) is None
    low, high = value_range([5.0, 5.0])
    assert low < 5.0 < high  # a flat line still gets a visible range
