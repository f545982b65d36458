# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""LeakTrend: the RSS slope over a window on synthetic memory histories."""

import numpy as np
import pytest

from face_tracker_ros.monitor.trend import LeakTrend


def feed(trend, t0, t1, step, rss_at, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    for t in np.arange(t0, t1, step):
        trend.add(float(t), rss_at(t) + float(rng.normal(0.0, noise)) if noise else rss_at(t))


def test_steady_growth_gives_its_rate():
    trend = LeakTrend()
    feed(trend, 0.0, 3600.0, 10.0, lambda t: 100.0 + 5.0 * t / 3600.0)
    assert trend.slope_mb_per_h() == pytest.approx(5.0, rel=1e-6)


def test_slow_leak_is_found_under_noise_long_before_a_hard_limit():
    # 5 MB/h under +-3 MB of allocator noise: after the first hour the slope
    # shows the leak, while the RSS (about 105 MB) is nowhere near 600 MB.
    trend = LeakTrend(window_s=3600.0, min_span_s=600.0)
    feed(trend, 0.0, 3600.0, 5.0, lambda t: 100.0 + 5.0 * t / 3600.0, noise=3.0, seed=1)
    slope = trend.slope_mb_per_h()
    assert slope == pytest.approx(5.0, abs=1.0)
    assert trend.hours_until(600.0) == pytest.approx(99.0, rel=0.25)


def test_flat_noisy_memory_has_no_slope():
    trend = LeakTrend()
    feed(trend, 0.0, 3600.0, 5.0, lambda t: 250.0, noise=3.0, seed=2)
    assert abs(trend.slope_mb_per_h()) < 0.5
    assert trend.hours_until(600.0) is None


def test_no_slope_before_min_span():
    trend = LeakTrend(window_s=3600.0, min_span_s=600.0)
    assert trend.slope_mb_per_h() is None
    trend.add(0.0, 100.0)
    assert trend.slope_mb_per_h() is None
    feed(trend, 10.0, 600.0, 10.0, lambda t: 100.0 + t)
    assert trend.span_s == pytest.approx(590.0)
    assert trend.slope_mb_per_h() is None
    trend.add(600.0, 700.0)
    assert trend.slope_mb_per_h() == pytest.approx(3600.0)


def test_old_samples_leave_the_window():
    # A steep start-up ramp, then flat: an hour later only the flat part counts.
    trend = LeakTrend(window_s=3600.0, min_span_s=600.0)
    feed(trend, 0.0, 1800.0, 10.0, lambda t: 50.0 + 0.1 * t)
    assert trend.slope_mb_per_h() == pytest.approx(360.0)
    feed(trend, 1800.0, 7200.0, 10.0, lambda t: 230.0)
    assert trend.span_s <= 3600.0
    assert trend.slope_mb_per_h() == pytest.approx(0.0, abs=1e-9)


def test_memory_is_bounded_and_thinning_keeps_the_slope():
    trend = LeakTrend(window_s=3600.0, min_span_s=60.0, max_samples=64)
    feed(trend, 0.0, 3600.0, 0.5, lambda t: 80.0 + 12.0 * t / 3600.0, noise=0.5, seed=3)
    assert len(trend) <= 64
    assert trend.span_s > 3000.0
    assert trend.slope_mb_per_h() == pytest.approx(12.0, abs=1.0)


def test_reset_starts_afresh():
    trend = LeakTrend(window_s=100.0, min_span_s=10.0)
    feed(trend, 0.0, 50.0, 1.0, lambda t: t)
    assert trend.slope_mb_per_h() is not None
    trend.reset()
    assert trend.slope_mb_per_h() is None
    assert trend.span_s == 0.0
    assert len(trend) == 0


def test_bad_and_out_of_order_samples_are_ignored():
    trend = LeakTrend(window_s=100.0, min_span_s=10.0)
    feed(trend, 0.0, 20.0, 1.0, lambda t: 10.0 + t)
    for t, rss in ((5.0, 1e6), (21.0, float('nan')), (float('inf'), 1.0), ('x', 1.0),
                   (22.0, None)):
        trend.add(t, rss)
    assert len(trend) == 20
    assert trend.slope_mb_per_h() == pytest.approx(3600.0)


def test_hours_until_a_limit_already_reached():
    trend = LeakTrend(window_s=100.0, min_span_s=10.0)
    feed(trend, 0.0, 20.0, 1.0, lambda t: 700.0 + t)
    assert trend.hours_until(600.0) == 0.0


@pytest.mark.parametrize('kwargs, name', [
    ({'window_s': 0.0}, 'window_s'),
    ({'window_s': float('nan')}, 'window_s'),
    ({'min_span_s': -1.0}, 'min_span_s'),
    ({'window_s': 60.0, 'min_span_s': 120.0}, 'min_span_s'),
    ({'max_samples': 2}, 'max_samples'),
    ({'max_samples': 10.5}, 'max_samples'),
])
def test_bad_parameters_are_clear_errors(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LeakTrend(**kwargs)


def test_memory_is_allocated_once_not_while_the_window_fills():
    import tracemalloc

    trend = LeakTrend(window_s=3600.0, min_span_s=600.0, max_samples=4096)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for k in range(5000):  # fills the window and thins it once
            trend.add(2.0 * k, 100.0 + 0.001 * k)
        trend.slope_mb_per_h()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, 'filename')
                if stat.size_diff > 0 and 'trend.py' in str(stat.traceback))
    assert grown < 16 * 1024
