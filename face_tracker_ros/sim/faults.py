# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Fault schedules for the simulated camera: the failures a USB camera really shows.

A schedule is a list of entries ``"<kind>:<start_s>:<duration_s>[:<value>]"``,
times counted from when the schedule was made (the simulated camera's start), for
example ``["read_fail:10:3", "frozen:20:5", "disappear:40:4"]``:

* ``read_fail``: every read fails (returns no frame);
* ``frozen``: reads return the same frame again and again, byte-identical (a
  stuck driver);
* ``black``: reads return an all-black frame;
* ``slow``: each read takes ``value`` seconds longer (default 0.5); longer than
  the capture thread's ``frame_timeout_s`` it is a blocked read;
* ``hang``: a read blocks until the window ends, then returns a frame (a hung
  driver);
* ``disappear``: the device is gone: reads fail and opening fails too, until
  the window ends (an unplug and replug);
* ``leak``: every read keeps references to newly allocated, touched memory,
  ``value`` MiB per second of the window (default 10), never freed while the
  schedule lives (a leaking driver, to test the resource monitor).
* ``future_stamp`` / ``past_stamp``: frames are stamped ``value`` seconds
  (default 3600) ahead of / behind the capture time (a camera computer whose
  clock is wrong, or stepped; the receivers' checks of stamps against their
  own clock are what this tests).

:class:`FaultSchedule` holds the faults, their clock and the leaked memory and
is thread-safe; :class:`FaultySource` wraps any frame source and applies a
schedule.  Several sources can share one schedule, so a camera source that the
capture thread replaces (see :func:`faulty_factory`) keeps the same faults,
times and leak.  Faults can be added at run time with
:meth:`FaultSchedule.inject`.
"""

from dataclasses import dataclass
import mmap
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np

from face_tracker_ros.camera.frame_source import FrameSource, SourceError
from face_tracker_ros.common.checks import as_float

FAULT_KINDS = ('read_fail', 'frozen', 'black', 'slow', 'hang', 'disappear', 'leak',
               'future_stamp', 'past_stamp')

#: The value of a fault given without one.
DEFAULT_VALUES = {'slow': 0.5, 'leak': 10.0, 'future_stamp': 3600.0, 'past_stamp': 3600.0}

MIB = 1 << 20

# Leaked memory is allocated in blocks of at least this size (fewer, larger arrays).
_LEAK_BLOCK = 256 * 1024

# Longest single sleep while a read hangs (the window can be extended by injection).
_HANG_STEP_S = 0.05


@dataclass(frozen=True)
class Fault:
    """One scheduled fault: ``kind`` from ``start_s`` for ``duration_s`` seconds."""

    kind: str
    start_s: float
    duration_s: float
    value: float = 0.0

    @property
    def end_s(self) -> float:
        """Schedule time at which the fault ends."""
        return self.start_s + self.duration_s

    def active(self, t: float) -> bool:
        """Return True while the fault lasts at time ``t``."""
        return self.start_s <= t < self.end_s


def make_fault(kind: str, start_s: float, duration_s: float, value: Optional[float] = None,
               name: str = 'fault') -> Fault:
    """Return a validated :class:`Fault`; ValueError names ``name`` and the allowed values.

    ``value`` None takes the kind's default (:data:`DEFAULT_VALUES`, else 0).
    """
    if kind not in FAULT_KINDS:
        raise ValueError(f"{name}: kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
    numbers = []
    for label, number in (('start_s', start_s), ('duration_s', duration_s),
                          ('value', DEFAULT_VALUES.get(kind, 0.0) if value is None else value)):
        converted = as_float(number)
        if converted is None:
            raise ValueError(f'{name}: {label} of {kind!r} must be a finite number, got '
                             f'{number!r}')
        numbers.append(converted)
    start, duration, amount = numbers
    if start < 0.0 or duration <= 0.0:
        raise ValueError(f'{name}: {kind!r} needs start_s >= 0 and duration_s > 0, got '
                         f'start_s {start:g} and duration_s {duration:g}')
    if amount < 0.0 or (kind == 'leak' and amount <= 0.0):
        allowed = '> 0 (MiB per second)' if kind == 'leak' else '>= 0'
        raise ValueError(f'{name}: value of {kind!r} must be {allowed}, got {amount:g}')
    return Fault(kind, start, duration, amount)


def parse_faults(entries: Union[str, Sequence[str]], name: str = 'sim.faults') -> List[Fault]:
    """Parse schedule entries (a list, or one comma-separated string); blanks are skipped.

    ValueError names ``name``, the entry and the allowed forms.
    """
    if isinstance(entries, str):
        entries = entries.split(',')
    faults = []
    for entry in entries:
        if not isinstance(entry, str):
            raise ValueError(f'{name}: entries must be strings, got {entry!r}')
        if not entry.strip():
            continue
        parts = [part.strip() for part in entry.strip().split(':')]
        if len(parts) not in (3, 4) or parts[0] not in FAULT_KINDS:
            raise ValueError(f"{name}: '{entry}' is not '<kind>:<start_s>:<duration_s>"
                             f"[:<value>]' with kind one of {', '.join(FAULT_KINDS)}")
        try:
            numbers = [float(x) for x in parts[1:]]
        except ValueError:
            raise ValueError(f"{name}: '{entry}' has a time or value that is not a "
                             'number') from None
        value = numbers[2] if len(numbers) == 3 else None
        try:
            faults.append(make_fault(parts[0], numbers[0], numbers[1], value, name))
        except ValueError as exc:
            raise ValueError(f"{exc} (in '{entry}')") from None
    return faults


class FaultSchedule:
    """The faults of one simulated camera, their clock and the memory they leaked.

    Thread-safe.  Times count from the construction (``clock`` seconds).
    Share one schedule between every :class:`FaultySource` built for a camera
    so replacements keep the schedule.
    """

    def __init__(self, faults: Iterable[Fault] = (),
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Start the schedule's clock now; ``faults`` are :class:`Fault` objects."""
        faults = list(faults)
        for fault in faults:
            if not isinstance(fault, Fault):
                raise ValueError(f'faults must be Fault objects (see parse_faults), got '
                                 f'{fault!r}')
        if not callable(clock):
            raise ValueError(f'clock must be a callable returning seconds, got {clock!r}')
        self._clock = clock
        self._t0 = clock()
        self._lock = threading.Lock()
        self._faults = faults
        self._leaked: List[mmap.mmap] = []
        self._leaked_bytes = 0

    @property
    def faults(self) -> List[Fault]:
        """A copy of every fault scheduled so far, injected ones included."""
        with self._lock:
            return list(self._faults)

    def elapsed(self) -> float:
        """Seconds since the schedule started."""
        return self._clock() - self._t0

    def add(self, fault: Fault) -> Fault:
        """Add a fault (its times on this schedule's clock) and return it."""
        if not isinstance(fault, Fault):
            raise ValueError(f'fault must be a Fault, got {fault!r}')
        with self._lock:
            self._faults.append(fault)
        return fault

    def inject(self, kind: str, duration_s: float, value: Optional[float] = None) -> Fault:
        """Start a fault now (run-time injection) and return it."""
        return self.add(make_fault(kind, max(0.0, self.elapsed()), duration_s, value))

    def current(self, t: Optional[float] = None) -> Dict[str, Fault]:
        """Return the active faults at ``t`` (default now) by kind (the first of each kind)."""
        t = self.elapsed() if t is None else t
        found: Dict[str, Fault] = {}
        with self._lock:
            for fault in self._faults:
                if fault.active(t) and fault.kind not in found:
                    found[fault.kind] = fault
        return found

    def active(self) -> List[str]:
        """Kinds of the faults active now."""
        return sorted(self.current())

    def find(self, kind: str) -> Optional[Fault]:
        """Return an active fault of ``kind`` now, or None."""
        return self.current().get(kind)

    @property
    def leaked_bytes(self) -> int:
        """Bytes allocated by ``leak`` faults so far."""
        with self._lock:
            return self._leaked_bytes

    def leak(self) -> int:
        """Allocate what the ``leak`` faults owe by now; return the bytes allocated this call.

        The amount due is ``value`` MiB for every second of a leak window that
        has passed, so the rate does not depend on how often this is called.
        The memory is written (so it counts in the resident set) and kept.
        """
        t = self.elapsed()
        with self._lock:
            due = 0.0
            for fault in self._faults:
                if fault.kind == 'leak' and t >= fault.start_s:
                    due += fault.value * MIB * min(t - fault.start_s, fault.duration_s)
            missing = int(due) - self._leaked_bytes
            if missing < _LEAK_BLOCK:
                return 0
            # Fresh anonymous pages (never heap space freed earlier), all written to.
            block = mmap.mmap(-1, missing)
            np.frombuffer(block, np.uint8)[:] = 0x5A
            self._leaked.append(block)
            self._leaked_bytes += missing
            return missing

    def release_leak(self) -> None:
        """Drop the leaked memory (for tests; the simulated leak itself never frees)."""
        with self._lock:
            blocks, self._leaked = self._leaked, []
            self._leaked_bytes = 0
        for block in blocks:
            block.close()


def _inner_attribute(name: str) -> property:
    """Return a read-only property: the wrapped source's (``self.inner``) attribute ``name``."""
    return property(lambda self: getattr(self.inner, name),
                    doc=f"The inner source's ``{name}``.")


class FaultySource(FrameSource):
    """A frame source that misbehaves on schedule (and on request, for tests).

    ``faults`` is a :class:`FaultSchedule` (shared with other sources) or a
    sequence of :class:`Fault` for a schedule of this source alone, started
    now on ``clock``.  Attributes the wrapper does not define (``last_truth``,
    ``last_capture_time``, ``finished``, ...) are the inner source's.
    """

    def __init__(self, inner: FrameSource, faults: Union[FaultSchedule, Sequence[Fault]] = (),
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """Wrap ``inner`` with the schedule ``faults``."""
        if not all(callable(getattr(inner, name, None)) for name in ('open', 'read', 'close')):
            raise ValueError(f'inner must be a frame source (open, read, close), got {inner!r}')
        self.inner = inner
        self.kind = inner.kind
        self.schedule = faults if isinstance(faults, FaultSchedule) else \
            FaultSchedule(faults, clock)
        self._sleep = sleep
        self._last: Optional[np.ndarray] = None
        self.last_error = ''

    def inject(self, kind: str, duration_s: float, value: Optional[float] = None) -> Fault:
        """Start a fault now on the (shared) schedule; returns the scheduled fault."""
        return self.schedule.inject(kind, duration_s, value)

    def elapsed(self) -> float:
        """Seconds since the schedule started."""
        return self.schedule.elapsed()

    def active(self) -> List[str]:
        """Kinds of the faults active now."""
        return self.schedule.active()

    def __getattr__(self, name: str) -> Any:
        """Return the inner source's attribute (``last_truth``, ``finished``, ...)."""
        if name == 'inner' or name.startswith('__'):
            raise AttributeError(name)
        return getattr(self.inner, name)

    width = _inner_attribute('width')
    height = _inner_attribute('height')
    fps = _inner_attribute('fps')
    is_open = _inner_attribute('is_open')

    @property
    def repeats_frames(self) -> bool:  # noqa: D102 - the inner source's
        return bool(getattr(self.inner, 'repeats_frames', False))

    @property
    def last_capture_time(self) -> Optional[float]:
        """The inner source's capture time of the last frame, shifted by a stamp fault.

        None (the capture thread then stamps with its own clock) when the inner
        source has none and no stamp fault is active.
        """
        t = getattr(self.inner, 'last_capture_time', None)
        faults = self.schedule.current()
        shift = 0.0
        if 'future_stamp' in faults:
            shift += faults['future_stamp'].value
        if 'past_stamp' in faults:
            shift -= faults['past_stamp'].value
        if not shift:
            return t
        return (time.time() if t is None else t) + shift

    def open(self) -> None:
        """Open the inner source, unless the device has "disappeared"."""
        fault = self.schedule.find('disappear')
        if fault is not None:
            raise SourceError('simulated camera disappeared (fault injection, back at '
                              f'{fault.end_s:g} s of the schedule)')
        self.inner.open()

    def close(self) -> None:
        """Close the inner source."""
        self.inner.close()

    def describe(self) -> str:
        """Describe the inner source and the schedule."""
        active = ', '.join(self.schedule.active()) or 'none'
        return (f'{self.inner.describe()} with {len(self.schedule.faults)} scheduled '
                f'fault(s) (active: {active})')

    def _period(self) -> float:
        fps = getattr(self.inner, 'fps', 0.0)
        return 1.0 / fps if isinstance(fps, (int, float)) and fps > 0.0 else 0.033

    def _hang(self) -> None:
        """Block while a ``hang`` fault lasts (injection can extend it)."""
        while True:
            fault = self.schedule.find('hang')
            if fault is None:
                return
            remaining = fault.end_s - self.schedule.elapsed()
            self._sleep(min(max(remaining, 0.001), _HANG_STEP_S))

    def read(self) -> Optional[np.ndarray]:
        """Read through the inner source, then apply the active faults (never raises)."""
        try:
            self.schedule.leak()
        except MemoryError:
            self.last_error = 'leak fault: out of memory'
        if self.schedule.find('hang') is not None:
            self._hang()
        faults = self.schedule.current()
        if 'disappear' in faults or 'read_fail' in faults:
            self._sleep(self._period())
            what = 'device disappeared' if 'disappear' in faults else 'read failure'
            self.last_error = f'simulated {what} (fault injection)'
            return None
        slow = faults.get('slow')
        frame = self.inner.read()
        if slow is not None and slow.value > 0.0:
            self._sleep(slow.value)
        if frame is None:
            self.last_error = getattr(self.inner, 'last_error', '') or 'no frame'
            return None
        faults = self.schedule.current()
        if 'frozen' in faults and self._last is not None:
            return self._last.copy()
        if 'black' in faults:
            return np.zeros_like(frame)
        self._last = frame
        return frame


def faulty_factory(make_inner: Callable[[], FrameSource], schedule: FaultSchedule,
                   sleep: Callable[[float], None] = time.sleep) -> Callable[[], FaultySource]:
    """Return a source factory: each call wraps a fresh ``make_inner()`` in the shared schedule."""
    if not callable(make_inner):
        raise ValueError(f'make_inner must be a callable returning a frame source, got '
                         f'{make_inner!r}')
    if not isinstance(schedule, FaultSchedule):
        raise ValueError(f'schedule must be a FaultSchedule, got {schedule!r}')

    def build() -> FaultySource:
        return FaultySource(make_inner(), schedule, sleep=sleep)

    return build
