# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""RateMeter and WindowStats on a fake clock, their memory bound and thread safety."""

import math
import threading
import tracemalloc

import numpy as np
import pytest

from face_tracker_ros.common.stats import percentile, RateMeter, WindowStats


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


def test_rate_of_steady_events():
    clock = FakeClock()
    meter = RateMeter(window_s=5.0, clock=clock)
    for _ in range(300):  # 30 Hz for 10 s
        clock.advance(1.0 / 30.0)
        meter.tick()
    assert meter.rate() == pytest.approx(30.0, rel=0.02)
    assert meter.total == 300


def test_rate_is_true_during_the_first_window():
    clock = FakeClock()
    meter = RateMeter(window_s=5.0, clock=clock)
    assert meter.rate() == 0.0
    for _ in range(20):  # 20 Hz for 1 s, less than one window
        clock.advance(0.05)
        meter.tick()
    assert meter.rate() == pytest.approx(20.0, rel=0.02)


def test_rate_drops_to_zero_when_events_stop():
    clock = FakeClock()
    meter = RateMeter(window_s=5.0, clock=clock)
    for _ in range(50):
        clock.advance(0.1)
        meter.tick()
    clock.advance(2.5)  # half of the window has no events
    assert meter.rate() == pytest.approx(5.0, rel=0.1)
    clock.advance(5.1)
    assert meter.rate() == 0.0
    assert meter.total == 50


def test_tick_counts_batches_and_ignores_nonsense():
    clock = FakeClock()
    meter = RateMeter(window_s=2.0, clock=clock)
    clock.advance(2.0)
    meter.tick(10)
    for bad in (0, -3, 'many', None, float('inf'), float('nan')):
        meter.tick(bad)
    assert meter.rate() == pytest.approx(5.0)
    assert meter.total == 10


def test_reset_forgets_events():
    clock = FakeClock()
    meter = RateMeter(window_s=5.0, clock=clock)
    clock.advance(1.0)
    meter.tick(7)
    meter.reset()
    assert meter.rate() == 0.0


@pytest.mark.parametrize('window', [0, -1.0, float('nan'), float('inf'), 'long'])
def test_bad_window_is_a_clear_error(window):
    with pytest.raises(ValueError, match='window_s'):
        RateMeter(window_s=window)
    with pytest.raises(ValueError, match='window_s'):
        WindowStats(window_s=window)


def test_window_stats_mean_max_count():
    clock = FakeClock()
    stats = WindowStats(window_s=5.0, clock=clock)
    assert stats.mean is None and stats.max is None and stats.count == 0
    for value in (10.0, 20.0, 30.0, 40.0):
        clock.advance(0.5)
        stats.add(value)
    assert stats.count == 4
    assert stats.mean == pytest.approx(25.0)
    assert stats.max == 40.0


def test_window_stats_forget_old_samples():
    clock = FakeClock()
    stats = WindowStats(window_s=5.0, clock=clock)
    stats.add(500.0)  # a slow outlier
    clock.advance(3.0)
    stats.add(10.0)
    clock.advance(1.0)
    stats.add(20.0)
    assert stats.max == 500.0
    clock.advance(1.5)  # the outlier is now 5.5 s old
    assert stats.max == 20.0
    assert stats.mean == pytest.approx(15.0)
    assert stats.count == 2
    clock.advance(10.0)
    assert stats.mean is None and stats.max is None and stats.count == 0


def test_window_stats_ignore_bad_samples():
    clock = FakeClock()
    stats = WindowStats(window_s=5.0, clock=clock)
    for bad in (float('nan'), float('inf'), None, 'slow'):
        stats.add(bad)
    stats.add(4.0)
    assert stats.count == 1
    assert stats.mean == 4.0


def test_memory_stays_bounded_at_any_rate():
    clock = FakeClock()
    meter = RateMeter(window_s=5.0, clock=clock)
    stats = WindowStats(window_s=5.0, clock=clock)

    def feed(n):
        for _ in range(n):
            clock.advance(1e-5)  # 100 kHz
            meter.tick()
            stats.add(1.0)

    tracemalloc.start()
    try:
        feed(10000)
        before = tracemalloc.get_traced_memory()[0]
        feed(60000)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # 60k more events in the window would take megabytes as a list of timestamps.
    assert after - before < 64 * 1024
    assert meter.rate() == pytest.approx(1e5, rel=0.01)
    assert stats.count == 70000


def test_thread_safety_smoke():
    meter = RateMeter(window_s=60.0)
    stats = WindowStats(window_s=60.0)
    per_thread = 5000
    errors = []
    readings = []

    def work():
        try:
            for i in range(per_thread):
                meter.tick()
                stats.add(float(i))
                if i % 500 == 0:
                    readings.append((meter.rate(), stats.mean, stats.max))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30.0)
    assert not errors
    assert all(rate > 0.0 and mean is not None for rate, mean, _ in readings)
    assert meter.total == 4 * per_thread
    assert stats.count == 4 * per_thread
    assert stats.max == per_thread - 1
    assert stats.mean == pytest.approx((per_thread - 1) / 2.0)


def test_percentile_interpolates_like_numpy_over_the_finite_values():
    values = [4.0, 1.0, 3.0, 2.0, 10.0]
    for q in (0, 12.5, 50, 90, 99, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    # An unknown figure is left out, not sorted in (it made the median NaN before).
    assert percentile([1.0, math.nan, 3.0, 2.0], 50) == 2.0
    assert percentile([1.0, 3.0, math.inf], 99) == pytest.approx(2.98)
    assert percentile([math.nan], 50) is None and percentile([], 50) is None
    with pytest.raises(ValueError, match='^q must be'):
        percentile([1.0], 101)
