# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The serial faults of the simulated servo controller: kinds, schedule entries, clock.

Serial faults come from a schedule (entries
``"<kind>:<start_s>:<duration_s>[:<value>]"``, times in seconds from
:meth:`SimServoController.start`, parsed by :func:`parse_serial_faults`) or
are injected at run time with :meth:`SimServoController.inject`:

* ``disconnect``: the pty is closed and the link removed (an unplug); when
  the window ends a new pty is made and the same link path points at it, so
  a client must reopen the path (a replug);
* ``garbage``: every chunk of host bytes is answered with ``value`` random
  bytes (default 8) instead of the real reply, and random junk also arrives
  every 100 ms (the ASCII controller's junk ends in a line feed, so each piece is
  one bad line); commands still take effect;
* ``silent``: commands are read and acted on, but no reply is sent;
* ``slow``: every reply is sent ``value`` seconds late (default 0.5);
* ``stall``: the controller stops reading altogether (a hung controller): the
  client's writes fill the pty buffer and eventually time out; what was
  written is handled when the stall ends.
* ``error_storm``: the ASCII controller sends unsolicited ``ERR MAESTRO 0x0001``
  lines, ``value`` per second (default 3500, in bursts every 10 ms), besides
  its normal replies (a confused bridge firmware); the Maestro has no
  unsolicited messages, so there it does nothing.

Faults run on the wall clock (``time.monotonic``), even when the servo model
runs on an injected ``clock``: they are about real bytes on a real pty.
"""

import math
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from face_tracker_ros.common.checks import is_number
from face_tracker_ros.sim.faults import Fault

#: The serial fault kinds, in order of precedence when several are active.
SERIAL_FAULT_KINDS = ('disconnect', 'stall', 'silent', 'garbage', 'slow', 'error_storm')

#: Random bytes per garbage reply when the entry gives no value.
DEFAULT_GARBAGE_BYTES = 8

#: Reply delay of ``slow`` when the entry gives no value, seconds.
DEFAULT_SLOW_S = 0.5

#: Period of the unsolicited junk of ``garbage``, seconds.
JUNK_PERIOD_S = 0.1

#: Error lines per second of ``error_storm`` when the entry gives no value.
DEFAULT_STORM_PER_S = 3500.0

#: Period of the bursts of ``error_storm``, seconds, and the line it repeats.
STORM_PERIOD_S = 0.01
STORM_LINE = b'ERR MAESTRO 0x0001\n'

_MAX_STORM_PER_S = 100000.0

_MAX_GARBAGE_BYTES = 4096
_MAX_SLOW_S = 60.0
_FORM = "'<kind>:<start_s>:<duration_s>[:<value>]'"


#: A serial fault has the same shape as a camera fault (kind, start, duration, value).
SerialFault = Fault


#: The kinds that take a value: its default, whether a value is allowed, and what it is.
_VALUES: Dict[str, Tuple[float, Callable[[float], bool], str]] = {
    'garbage': (float(DEFAULT_GARBAGE_BYTES),
                lambda v: v == int(v) and 1 <= v <= _MAX_GARBAGE_BYTES,
                'bytes per reply, an integer in 1..{}'.format(_MAX_GARBAGE_BYTES)),
    'slow': (DEFAULT_SLOW_S, lambda v: 0.0 < v <= _MAX_SLOW_S,
             'the reply delay in seconds, 0 < value <= {:g}'.format(_MAX_SLOW_S)),
    'error_storm': (DEFAULT_STORM_PER_S, lambda v: 1.0 <= v <= _MAX_STORM_PER_S,
                    'error lines per second, 1..{:g}'.format(_MAX_STORM_PER_S)),
}


def _fault_value(kind: str, value: Optional[float], entry: str, name: str) -> float:
    if kind in _VALUES:
        default, allowed, meaning = _VALUES[kind]
        if value is None:
            return default
        if not allowed(value):
            raise ValueError(f"{name}: '{entry}': the {kind} value is {meaning}")
        return value
    if value is not None:
        raise ValueError(f"{name}: '{entry}': {kind} takes no value (only garbage, slow and "
                         'error_storm do)')
    return 0.0


def parse_serial_faults(entries: Sequence[str], name: str = 'serial_faults') -> List[SerialFault]:
    """Parse schedule entries ``"<kind>:<start_s>:<duration_s>[:<value>]"``; blanks are skipped.

    ValueError names ``name``, the bad entry and the allowed forms and kinds.
    """
    if isinstance(entries, (str, bytes)) or not isinstance(entries, (list, tuple)):
        raise ValueError('{} ({!r}) must be a list of strings {}'.format(name, entries, _FORM))
    faults = []
    for entry in entries:
        if not isinstance(entry, str):
            raise ValueError('{}: {!r} is not a string {}'.format(name, entry, _FORM))
        if not entry.strip():
            continue
        parts = [p.strip() for p in entry.strip().split(':')]
        if len(parts) not in (3, 4) or parts[0] not in SERIAL_FAULT_KINDS:
            raise ValueError("{}: '{}' is not {} with kind one of {}".format(
                name, entry, _FORM, ', '.join(sorted(SERIAL_FAULT_KINDS))))
        try:
            numbers = [float(x) for x in parts[1:]]
        except ValueError:
            raise ValueError("{}: '{}' has a number that is not a number".format(
                name, entry)) from None
        if not all(math.isfinite(x) for x in numbers):
            raise ValueError("{}: '{}' has a number that is not finite".format(name, entry))
        if numbers[0] < 0.0 or numbers[1] <= 0.0:
            raise ValueError("{}: '{}' needs start_s >= 0 and duration_s > 0".format(
                name, entry))
        value = _fault_value(parts[0], numbers[2] if len(numbers) == 3 else None, entry, name)
        faults.append(SerialFault(parts[0], numbers[0], numbers[1], value))
    return faults


class SerialFaultSchedule:
    """The controller's faults on the wall clock (``time.monotonic``), counted from :meth:`start`.

    Thread-safe.  ``faults`` are :class:`SerialFault` objects (see :func:`parse_serial_faults`).
    """

    def __init__(self, faults: Sequence[SerialFault] = ()) -> None:
        """Keep the faults; the clock starts with :meth:`start`."""
        self._lock = threading.Lock()
        self._faults: List[SerialFault] = list(faults)
        self._t0: Optional[float] = None

    def start(self) -> None:
        """Start (or restart) the schedule's clock now."""
        with self._lock:
            self._t0 = time.monotonic()

    def elapsed(self) -> float:
        """Return the seconds since :meth:`start` (0 before it), the schedule's time."""
        with self._lock:
            t0 = self._t0
        return 0.0 if t0 is None else time.monotonic() - t0

    def inject(self, kind: str, duration_s: float, value: float = 0.0) -> SerialFault:
        """Start a fault now for ``duration_s`` seconds; ``value`` 0 means the kind's default.

        ValueError names the bad argument and the allowed kinds.
        """
        if kind not in SERIAL_FAULT_KINDS:
            raise ValueError('kind ({!r}) must be one of {}'.format(
                kind, ', '.join(sorted(SERIAL_FAULT_KINDS))))
        for name, number in (('duration_s', duration_s), ('value', value)):
            if not is_number(number):
                raise ValueError('{} ({!r}) must be a finite number'.format(name, number))
        if duration_s <= 0:
            raise ValueError('duration_s ({!r}) must be > 0'.format(duration_s))
        entry = '{}:{!r}:{!r}'.format(kind, self.elapsed(), float(duration_s))
        if value:
            entry += ':{!r}'.format(float(value))
        (fault,) = parse_serial_faults([entry], 'inject')
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """End every scheduled and injected fault now."""
        with self._lock:
            self._faults = []

    def active(self, t: float) -> Dict[str, SerialFault]:
        """Return the faults active at schedule time ``t`` by kind."""
        active: Dict[str, SerialFault] = {}
        with self._lock:
            for fault in self._faults:
                if fault.active(t):
                    active[fault.kind] = fault
        return active

    def next_change(self, t: float) -> float:
        """Return the next schedule time after ``t`` when a fault starts or ends (inf: none)."""
        times = [math.inf]
        with self._lock:
            for fault in self._faults:
                times += [x for x in (fault.start_s, fault.end_s) if x > t]
        return min(times)
