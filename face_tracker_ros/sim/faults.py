# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Fault schedules for the simulated camera: the failures a USB camera really shows.

A schedule is a list of entries ``"<kind>:<start_s>:<duration_s>[:<value>]"``,
times counted from when the camera node started, for example
``["read_fail:10:3", "frozen:20:5", "disappear:40:4"]``:

* ``read_fail``: every read fails (returns no frame);
* ``frozen``: reads return the same frame again and again (a stuck driver);
* ``black``: reads return an all-black frame;
* ``slow``: each read takes ``value`` seconds longer (default 0.5);
* ``disappear``: the device is gone: reads fail and reopening fails too, until
  the window ends (an unplug and replug).

:class:`FaultySource` wraps any frame source and applies the schedule.
"""

from dataclasses import dataclass
import threading
import time
from typing import Callable, List, Optional, Sequence

import numpy as np

from face_tracker_ros.camera.sources import FrameSource, SourceError

FAULT_KINDS = ('read_fail', 'frozen', 'black', 'slow', 'disappear')


@dataclass(frozen=True)
class Fault:
    """One scheduled fault: ``kind`` from ``start_s`` for ``duration_s`` seconds."""

    kind: str
    start_s: float
    duration_s: float
    value: float = 0.0

    def active(self, t: float) -> bool:
        """Return True while the fault lasts at time ``t``."""
        return self.start_s <= t < self.start_s + self.duration_s


def parse_faults(entries: Sequence[str], name: str = 'sim.faults') -> List[Fault]:
    """Parse schedule entries; ValueError names ``name``, the entry and the allowed forms."""
    faults = []
    for entry in entries:
        if not entry.strip():
            continue
        parts = entry.strip().split(':')
        if len(parts) not in (3, 4) or parts[0] not in FAULT_KINDS:
            raise ValueError(f"{name}: '{entry}' is not '<kind>:<start_s>:<duration_s>"
                             f"[:<value>]' with kind one of {', '.join(FAULT_KINDS)}")
        try:
            numbers = [float(x) for x in parts[1:]]
        except ValueError:
            raise ValueError(f"{name}: '{entry}' has a time that is not a number") from None
        if numbers[0] < 0.0 or numbers[1] <= 0.0:
            raise ValueError(f"{name}: '{entry}' needs start_s >= 0 and duration_s > 0")
        value = numbers[2] if len(numbers) == 3 else (0.5 if parts[0] == 'slow' else 0.0)
        faults.append(Fault(parts[0], numbers[0], numbers[1], value))
    return faults


class FaultySource(FrameSource):
    """A frame source that misbehaves on schedule (and on request, for tests)."""

    def __init__(self, inner: FrameSource, faults: Sequence[Fault] = (),
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        """Wrap ``inner``; schedule times count from this call."""
        self.inner = inner
        self.kind = inner.kind
        self._faults = list(faults)
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._t0 = clock()
        self._last: Optional[np.ndarray] = None
        self.last_error = ''

    def inject(self, kind: str, duration_s: float, value: float = 0.0) -> Fault:
        """Start a fault now (run-time injection); returns the scheduled fault."""
        fault = parse_faults([f'{kind}:{self.elapsed():.3f}:{duration_s}'
                              + (f':{value}' if value else '')], 'fault')[0]
        with self._lock:
            self._faults.append(fault)
        return fault

    def elapsed(self) -> float:
        """Seconds since the schedule started."""
        return self._clock() - self._t0

    def active(self) -> List[str]:
        """Kinds of the faults active now."""
        t = self.elapsed()
        with self._lock:
            return [f.kind for f in self._faults if f.active(t)]

    def _active(self, kind: str) -> Optional[Fault]:
        t = self.elapsed()
        with self._lock:
            for fault in self._faults:
                if fault.kind == kind and fault.active(t):
                    return fault
        return None

    def __getattr__(self, name):
        # Everything else (last_truth, last_capture_time, ...) is the inner source's.
        return getattr(self.inner, name)

    @property
    def width(self) -> int:  # noqa: D102 - the inner source's
        return self.inner.width

    @property
    def height(self) -> int:  # noqa: D102 - the inner source's
        return self.inner.height

    @property
    def fps(self) -> float:  # noqa: D102 - the inner source's
        return self.inner.fps

    @property
    def is_open(self) -> bool:  # noqa: D102 - the inner source's
        return self.inner.is_open

    def open(self) -> None:
        """Open the inner source, unless the device has "disappeared"."""
        if self._active('disappear'):
            raise SourceError('simulated camera disappeared (fault injection)')
        self.inner.open()

    def close(self) -> None:
        """Close the inner source."""
        self.inner.close()

    def describe(self) -> str:
        """Describe the inner source and the schedule."""
        return f'{self.inner.describe()} with {len(self._faults)} scheduled fault(s)'

    def read(self) -> Optional[np.ndarray]:
        """Read through the inner source, then apply the active faults."""
        period = 1.0 / self.inner.fps if getattr(self.inner, 'fps', 0) else 0.033
        if self._active('disappear') or self._active('read_fail'):
            self._sleep(period)
            self.last_error = 'simulated read failure (fault injection)'
            return None
        slow = self._active('slow')
        frame = self.inner.read()
        if slow is not None:
            self._sleep(slow.value)
        if frame is None:
            self.last_error = getattr(self.inner, 'last_error', '')
            return None
        if self._active('frozen') and self._last is not None:
            return self._last.copy()
        if self._active('black'):
            return np.zeros_like(frame)
        self._last = frame
        return frame
