# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Memory-leak trend: the least-squares slope of a process's RSS over a time window.

Why a slope and not only a limit: a leak in a tracker that runs for months
is slow, typically a few MB per hour, while the RSS of a healthy process
wobbles by several MB as buffers are allocated and freed.  A hard limit
(the original tracker restarted above 600 MB) only fires when the damage is
done; a process starting at 100 MB and leaking 5 MB/h crosses it after 100
hours, and no single reading before that looks wrong.  A straight line
fitted through every reading of the last hour averages the wobble out, and
its slope measures the growth rate itself: after ``min_span_s`` of readings
the leak shows as a steady positive slope, days before the limit, and
``hours_until()`` says when the limit will be reached.  The window keeps
the fit about the present (a start-up ramp or an old, fixed leak ages out),
and ``reset()`` starts afresh when the process restarts.
"""

import math
from typing import Optional, Tuple

import numpy as np

from face_tracker_ros.common.checks import check_int, check_positive


class LeakTrend:
    """Least-squares slope of RSS (MB) against time over a sliding window, in MB per hour.

    Samples are ``(t, rss_mb)`` with ``t`` in seconds on a monotonic clock.
    Samples older than ``window_s`` before the newest are dropped; when more
    than ``max_samples`` remain, they are thinned evenly in time order, so
    memory stays bounded whatever the sampling rate.  Out-of-order and
    non-finite samples are ignored.
    """

    def __init__(self, window_s: float = 3600.0, min_span_s: float = 600.0,
                 max_samples: int = 4096):
        #: The window length in seconds.
        self.window_s = check_positive('window_s', window_s, unit='seconds')
        #: The span of samples needed before a slope is reported.
        self.min_span_s = check_positive('min_span_s', min_span_s, unit='seconds',
                                         allow_zero=True)
        if self.min_span_s > self.window_s:
            raise ValueError(f'min_span_s must be <= window_s ({self.window_s}), '
                             f'got {min_span_s!r}')
        self._max_samples = check_int('max_samples', max_samples, low=4)
        # Allocated once at full size: a monitor that grows while it fills its window
        # would itself look like a slow leak for the first hour.
        self._t = np.full(max_samples + 1, 0.0)
        self._y = np.full(max_samples + 1, 0.0)
        self._n = 0

    def __len__(self) -> int:
        """Return the number of samples held."""
        return self._n

    def add(self, t: float, rss_mb: float) -> None:
        """Add one reading taken at ``t`` seconds; bad or out-of-order readings are ignored."""
        try:
            t = float(t)
            rss_mb = float(rss_mb)
        except (TypeError, ValueError, OverflowError):
            return
        if not (math.isfinite(t) and math.isfinite(rss_mb)):
            return
        n = self._n
        if n and t < self._t[n - 1]:
            return
        self._t[n], self._y[n] = t, rss_mb
        n += 1
        old = int(np.searchsorted(self._t[:n], t - self.window_s, side='left'))
        if old:
            self._t[:n - old] = self._t[old:n]
            self._y[:n - old] = self._y[old:n]
            n -= old
        self._n = n
        if n > self._max_samples:
            self._thin()

    def _thin(self) -> None:
        """Keep about half of ``max_samples``, evenly spread in time (oldest and newest kept).

        Thinning by time, not by index, keeps the history evenly covered even
        though the newest stretch is always denser than the thinned past.
        """
        times = self._t[:self._n]
        targets = np.linspace(times[0], times[-1], self._max_samples // 2)
        right = np.clip(np.searchsorted(times, targets), 1, len(times) - 1)
        left = right - 1
        nearest = np.unique(np.where(targets - times[left] <= times[right] - targets,
                                     left, right))
        kept = len(nearest)
        self._t[:kept] = self._t[nearest]
        self._y[:kept] = self._y[nearest]
        self._n = kept

    @property
    def span_s(self) -> float:
        """Return the time between the oldest and the newest sample held (0.0 if < 2)."""
        if self._n < 2:
            return 0.0
        return float(self._t[self._n - 1] - self._t[0])

    def _fit(self) -> Optional[Tuple[float, float, float]]:
        """Return (slope in MB/s, fitted RSS at the newest sample, newest t) or None."""
        if self._n < 2 or self.span_s < self.min_span_s or self.span_s <= 0.0:
            return None
        times, values = self._t[:self._n], self._y[:self._n]
        t = times - times.mean()
        y = values - values.mean()
        denominator = float(np.dot(t, t))
        if denominator <= 0.0:
            return None
        slope = float(np.dot(t, y)) / denominator
        fitted_last = float(values.mean()) + slope * float(t[-1])
        return slope, fitted_last, float(times[-1])

    def slope_mb_per_h(self) -> Optional[float]:
        """Return the RSS growth in MB per hour, or None until samples span ``min_span_s``."""
        fit = self._fit()
        if fit is None:
            return None
        return fit[0] * 3600.0

    def hours_until(self, limit_mb: float) -> Optional[float]:
        """Return the hours until the fitted line reaches ``limit_mb``.

        0.0 when the fitted RSS is already at or above it; None when there is
        no slope yet or the RSS is not growing.
        """
        fit = self._fit()
        if fit is None:
            return None
        slope, fitted_last, _ = fit
        if fitted_last >= limit_mb:
            return 0.0
        if slope <= 0.0:
            return None
        return (limit_mb - fitted_last) / slope / 3600.0

    def reset(self) -> None:
        """Forget every sample (call it when the watched process restarted)."""
        self._n = 0
