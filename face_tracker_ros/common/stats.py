# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Sliding-window health figures every node reports: event rates and sample statistics.

Both classes keep memory bounded whatever the event rate: events that arrive
within a small fraction of the window of each other (``window_s / BUCKETS``)
are merged into one bucket, so a window never holds more than about
``BUCKETS`` entries.  The price is that the window edge is resolved to one
bucket width (0.5 % of the window by default), which no health figure
notices.  Both are thread-safe: a worker thread may feed them while a timer
reads them.
"""

from collections import deque
import math
import threading
import time
from typing import Callable, Deque, Iterable, List, Optional

from face_tracker_ros.common.checks import check_number, check_positive

#: Buckets per window: the bound on memory and the resolution of the window edge.
BUCKETS = 200


class RateMeter:
    """Events per second over a sliding time window, on an injectable clock.

    The rate is the number of events in the window divided by the window
    length, or by the time since the meter was created while that is still
    shorter than the window (so a node reports its true rate right after it
    starts instead of ramping up over the first window).
    """

    def __init__(self, window_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        #: The window length in seconds.
        self.window_s = check_positive('window_s', window_s, unit='seconds')
        self._bucket = self.window_s / BUCKETS
        self._clock = clock
        self._lock = threading.Lock()
        self._start = clock()
        # Each entry is [time of the bucket's first event, events in the bucket].
        self._buckets: Deque[List[float]] = deque()
        self._total = 0

    @property
    def total(self) -> int:
        """Return the number of events counted since creation (never trimmed)."""
        with self._lock:
            return self._total

    def tick(self, n: int = 1) -> None:
        """Count ``n`` events now; anything that is not a positive count is ignored."""
        try:
            count = int(n)
        except (TypeError, ValueError, OverflowError):
            return
        if count <= 0:
            return
        now = self._clock()
        with self._lock:
            self._total += count
            if self._buckets and now - self._buckets[-1][0] < self._bucket:
                self._buckets[-1][1] += count
            else:
                self._buckets.append([now, count])
            self._trim(now)

    def rate(self) -> float:
        """Return events per second over the window; 0.0 when no event is in the window."""
        now = self._clock()
        with self._lock:
            self._trim(now)
            count = sum(entry[1] for entry in self._buckets)
            span = min(self.window_s, now - self._start)
        if count == 0 or span <= 0.0:
            return 0.0
        return count / span

    def reset(self) -> None:
        """Forget every event in the window and restart the warm-up period."""
        with self._lock:
            self._buckets.clear()
            self._start = self._clock()

    def _trim(self, now: float) -> None:
        horizon = now - self.window_s
        while self._buckets and self._buckets[0][0] < horizon:
            self._buckets.popleft()


class WindowStats:
    """Mean, maximum and count of samples (e.g. processing times) over a sliding window.

    Non-finite or non-numeric samples are ignored, so a bad reading never
    turns the mean into NaN.
    """

    def __init__(self, window_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        #: The window length in seconds.
        self.window_s = check_positive('window_s', window_s, unit='seconds')
        self._bucket = self.window_s / BUCKETS
        self._clock = clock
        self._lock = threading.Lock()
        # Each entry is [time of first sample, count, sum, max].
        self._buckets: Deque[List[float]] = deque()

    def add(self, value: float) -> None:
        """Record one sample taken now."""
        try:
            sample = float(value)
        except (TypeError, ValueError, OverflowError):
            return
        if not math.isfinite(sample):
            return
        now = self._clock()
        with self._lock:
            if self._buckets and now - self._buckets[-1][0] < self._bucket:
                entry = self._buckets[-1]
                entry[1] += 1
                entry[2] += sample
                entry[3] = max(entry[3], sample)
            else:
                self._buckets.append([now, 1, sample, sample])
            self._trim(now)

    @property
    def count(self) -> int:
        """Return the number of samples in the window."""
        with self._lock:
            self._trim(self._clock())
            return int(sum(entry[1] for entry in self._buckets))

    @property
    def mean(self) -> Optional[float]:
        """Return the mean of the samples in the window, or None when there are none."""
        with self._lock:
            self._trim(self._clock())
            count = sum(entry[1] for entry in self._buckets)
            if count == 0:
                return None
            return sum(entry[2] for entry in self._buckets) / count

    @property
    def max(self) -> Optional[float]:
        """Return the largest sample in the window, or None when there are none."""
        with self._lock:
            self._trim(self._clock())
            if not self._buckets:
                return None
            return max(entry[3] for entry in self._buckets)

    def reset(self) -> None:
        """Forget every sample."""
        with self._lock:
            self._buckets.clear()

    def _trim(self, now: float) -> None:
        horizon = now - self.window_s
        while self._buckets and self._buckets[0][0] < horizon:
            self._buckets.popleft()


def percentile(values: Iterable[float], q: float) -> Optional[float]:
    """Return the ``q``-th percentile of the finite values (q in 0-100); None without any.

    The one definition of the package (the tools, the benchmarks and the demo use it):
    linear interpolation between the two nearest ranks, as ``numpy.percentile``'s default;
    NaN and the infinities (a figure that is unknown) are left out, not sorted in.
    """
    q = check_number('q', q, 0.0, 100.0)
    ordered = sorted(float(v) for v in values if math.isfinite(v))
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q / 100.0
    low = int(math.floor(pos))
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
