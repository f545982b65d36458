# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A simulated servo controller on a real pseudo-terminal, in wall-clock time, with serial faults.

:class:`SimServoController` runs :class:`~face_tracker_ros.sim.firmware.SimFirmware`
behind the master side of a pseudo-terminal.  Clients open :attr:`port_path`
(a symlink to the pty's slave, or the slave's ``/dev/pts/N``) with pyserial
exactly as they would open real hardware.  :meth:`stop` closes the master,
which a connected client sees as an unplugged device.  ``stop(linger_s=...)``
first keeps serving a client that still has the port open until it closes it
(a servo node parking the head as it stops: both get their stop signal at
once under ``ros2 launch``), at most ``linger_s`` seconds, as a real
controller would go on serving after its host's stop.

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

import collections
import errno
import math
import os
import random
import select
import threading
import time
import tty
from typing import Callable, Deque, Dict, List, Optional, Sequence, Tuple, Union

from face_tracker_ros.servo.calibration import AxisCalibration
from face_tracker_ros.sim.faults import Fault
from face_tracker_ros.sim.firmware import SimFirmware
from face_tracker_ros.sim.servo_model import PanTiltModel, ServoAxisModel

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
_IDLE_WAIT_S = 0.5
_FORM = "'<kind>:<start_s>:<duration_s>[:<value>]'"


#: A serial fault has the same shape as a camera fault (kind, start, duration, value).
SerialFault = Fault


def _fault_value(kind: str, value: Optional[float], entry: str, name: str) -> float:
    if kind == 'garbage':
        if value is None:
            return float(DEFAULT_GARBAGE_BYTES)
        if value != int(value) or not 1 <= value <= _MAX_GARBAGE_BYTES:
            raise ValueError("{}: '{}': the garbage value is bytes per reply, an integer in "
                             '1..{}'.format(name, entry, _MAX_GARBAGE_BYTES))
        return value
    if kind == 'slow':
        if value is None:
            return DEFAULT_SLOW_S
        if not 0.0 < value <= _MAX_SLOW_S:
            raise ValueError("{}: '{}': the slow value is the reply delay in seconds, "
                             '0 < value <= {:g}'.format(name, entry, _MAX_SLOW_S))
        return value
    if kind == 'error_storm':
        if value is None:
            return DEFAULT_STORM_PER_S
        if not 1.0 <= value <= _MAX_STORM_PER_S:
            raise ValueError("{}: '{}': the error_storm value is error lines per second, "
                             '1..{:g}'.format(name, entry, _MAX_STORM_PER_S))
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


def _limits(name: str, limits: Tuple[float, float]) -> Tuple[float, float]:
    try:
        low, high = (float(v) for v in limits)
    except (TypeError, ValueError):
        raise ValueError('{} ({!r}) must be a (min, max) pair of angles in radians'.format(
            name, limits)) from None
    if not low < high:
        raise ValueError('{} ({!r}) must have min < max'.format(name, limits))
    return low, high


class SimServoController:
    """The emulated firmware served on a pseudo-terminal by a reader thread, with serial faults.

    ``angles()`` may be called from any thread while the reader thread handles
    bytes; both advance the servo model to ``clock()`` under one lock, so a
    command takes effect at the time it is handled.  :meth:`inject`,
    :meth:`clear_faults` and :meth:`active_faults` are thread-safe too.

    ``faults`` is a schedule: :class:`SerialFault` objects or entry strings
    (parsed with the parameter name ``faults``).  ``fault_seed`` seeds the
    random garbage (None: a different stream each run).

    Counters: ``disconnects_total`` (simulated unplugs), ``garbage_bytes_total``,
    ``replies_suppressed_total`` (replies withheld by ``silent``),
    ``replies_delayed_total`` (reply chunks held back by ``slow``) and
    ``bytes_dropped_total`` (replies lost because nobody read the port).
    """

    def __init__(self, protocol: str = 'ascii', link_path: Optional[str] = None,
                 pan_cal: AxisCalibration = AxisCalibration(),
                 tilt_cal: AxisCalibration = AxisCalibration(),
                 pan_channel: int = 0, tilt_channel: int = 1,
                 pan_limits: Tuple[float, float] = (-1.4, 1.4),
                 tilt_limits: Tuple[float, float] = (-0.8, 0.8),
                 max_speed_rad_s: float = 3.0,
                 clock: Callable[[], float] = time.monotonic,
                 faults: Sequence[Union[str, SerialFault]] = (),
                 fault_seed: Optional[int] = None) -> None:
        """Build the model and firmware (nothing is opened); ValueError names a bad setting."""
        pan_low, pan_high = _limits('pan_limits', pan_limits)
        tilt_low, tilt_high = _limits('tilt_limits', tilt_limits)
        model = PanTiltModel(
            ServoAxisModel(pan_low, pan_high, max_speed_rad_s),
            ServoAxisModel(tilt_low, tilt_high, max_speed_rad_s))
        self.firmware = SimFirmware(protocol, model, pan_cal, tilt_cal, pan_channel,
                                    tilt_channel)
        if isinstance(faults, (str, bytes)):
            raise ValueError('faults ({!r}) must be a list of schedule entries {}'.format(
                faults, _FORM))
        schedule = [f for f in faults if isinstance(f, SerialFault)]
        schedule += parse_serial_faults([f for f in faults if not isinstance(f, SerialFault)],
                                        'faults')
        self.link_path = link_path
        self.port_path = ''
        self.bytes_dropped_total = 0
        self.disconnects_total = 0
        self.garbage_bytes_total = 0
        self.replies_suppressed_total = 0
        self.replies_delayed_total = 0
        self.last_error = ''
        self._clock = clock
        self._lock = threading.Lock()
        self._last_time: Optional[float] = None
        self._master: Optional[int] = None
        self._slave: Optional[int] = None
        self._slave_name = ''
        self._wake_r: Optional[int] = None
        self._wake_w: Optional[int] = None
        self._thread: Optional[threading.Thread] = None
        self._stopping = threading.Event()
        self._fault_lock = threading.Lock()
        self._faults: List[SerialFault] = schedule
        self._t0: Optional[float] = None
        self._rng = random.Random(fault_seed)
        self._delayed: Deque[Tuple[float, bytes]] = collections.deque()
        self._next_junk = 0.0
        self._next_storm = 0.0
        self.storm_lines_total = 0
        self._linger_until: Optional[float] = None
        #: Seconds served after the stop request and commands handled meanwhile (last stop).
        self.lingered_s = 0.0
        self.linger_commands = 0
        #: Why the last linger ended: 'client closed the port', 'time limit', 'no client'.
        #: ('no client': nobody had the port open, or the client sent nothing and closed it).
        self.linger_end = ''

    @property
    def model(self) -> PanTiltModel:
        """Return the servo model; hold no reference across threads without :meth:`angles`."""
        return self.firmware.model

    def start(self) -> str:
        """Open the pty, link it, start the reader thread and return :attr:`port_path`.

        Raises OSError when the pty or the link cannot be made, and
        FileExistsError when ``link_path`` exists and is not a symlink.
        """
        if self._thread is not None:
            return self.port_path
        self._open_pty()
        try:
            wake_r, wake_w = os.pipe()
            os.set_blocking(wake_r, False)
            os.set_blocking(wake_w, False)
        except BaseException:
            self._close_pty()
            raise
        self._wake_r, self._wake_w = wake_r, wake_w
        with self._lock:
            self._last_time = self._clock()
        with self._fault_lock:
            self._t0 = time.monotonic()
        self._stopping.clear()
        self._linger_until = None
        self._thread = threading.Thread(target=self._run, name='sim-servo-controller',
                                        daemon=True)
        self._thread.start()
        return self.port_path

    def stop(self, linger_s: float = 0.0) -> None:
        """Stop the thread, remove the link and close the pty (idempotent).

        With ``linger_s`` > 0, first go on serving while a client has the port
        open, until it closes it or ``linger_s`` seconds have passed (the
        controller drops its own hold of the port, so the client's close is
        seen at once); with no client it stops at once.  :attr:`lingered_s`,
        :attr:`linger_commands` and :attr:`linger_end` tell what happened.
        """
        thread = self._thread
        if thread is None:
            return
        self.lingered_s, self.linger_commands, self.linger_end = 0.0, 0, ''
        if linger_s > 0.0 and math.isfinite(linger_s) and thread.is_alive():
            began = time.monotonic()
            commands = self.firmware.commands_total
            self._linger_until = began + linger_s
            self._wake()
            thread.join(timeout=linger_s + 1.0)
            self.lingered_s = time.monotonic() - began
            self.linger_commands = self.firmware.commands_total - commands
            if self.linger_end == 'client closed the port' and not self.linger_commands:
                self.linger_end = 'no client'
        self._stopping.set()
        self._wake()
        thread.join(timeout=5.0)
        self._thread = None
        self._close_pty()
        for fd in (self._wake_r, self._wake_w):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._wake_r = self._wake_w = None

    def angles(self) -> Tuple[float, float]:
        """Return the true physical ``(pan, tilt)`` in radians, advancing the model to now."""
        with self._lock:
            self._advance()
            return self.firmware.model.angles()

    # Faults --------------------------------------------------------------------

    def elapsed(self) -> float:
        """Return the seconds since :meth:`start` (0 before it), the schedule's time."""
        with self._fault_lock:
            t0 = self._t0
        return 0.0 if t0 is None else time.monotonic() - t0

    def inject(self, kind: str, duration_s: float, value: float = 0.0) -> SerialFault:
        """Start a fault now for ``duration_s`` seconds; ``value`` 0 means the kind's default.

        ValueError names the bad argument and the allowed kinds.  Thread-safe.
        """
        if kind not in SERIAL_FAULT_KINDS:
            raise ValueError('kind ({!r}) must be one of {}'.format(
                kind, ', '.join(sorted(SERIAL_FAULT_KINDS))))
        for name, number in (('duration_s', duration_s), ('value', value)):
            if isinstance(number, bool) or not isinstance(number, (int, float)) \
                    or not math.isfinite(number):
                raise ValueError('{} ({!r}) must be a finite number'.format(name, number))
        if duration_s <= 0:
            raise ValueError('duration_s ({!r}) must be > 0'.format(duration_s))
        entry = '{}:{!r}:{!r}'.format(kind, self.elapsed(), float(duration_s))
        if value:
            entry += ':{!r}'.format(float(value))
        (fault,) = parse_serial_faults([entry], 'inject')
        with self._fault_lock:
            self._faults.append(fault)
        self._wake()
        return fault

    def clear_faults(self) -> None:
        """End every scheduled and injected fault now (thread-safe)."""
        with self._fault_lock:
            self._faults = []
        self._wake()

    def active_faults(self) -> List[str]:
        """Return the kinds of the faults active now."""
        return sorted(self._active(self.elapsed()))

    def _active(self, t: float) -> Dict[str, SerialFault]:
        active: Dict[str, SerialFault] = {}
        with self._fault_lock:
            for fault in self._faults:
                if fault.active(t):
                    active[fault.kind] = fault
        return active

    def _next_change(self, t: float) -> float:
        """Return the next schedule time after ``t`` when a fault starts or ends (inf: none)."""
        times = [math.inf]
        with self._fault_lock:
            for fault in self._faults:
                times += [x for x in (fault.start_s, fault.end_s) if x > t]
        return min(times)

    def _junk(self, count: int) -> bytes:
        data = bytearray(self._rng.getrandbits(8) for _ in range(count))
        if self.firmware.protocol == 'ascii':
            data[0] |= 0x80  # never a valid line by accident
            data = data.replace(b'\n', b'\x80') + b'\n'
        self.garbage_bytes_total += len(data)
        return bytes(data)

    # The pty -------------------------------------------------------------------

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        try:
            tty.setraw(slave)
            os.set_blocking(master, False)
            slave_name = os.ttyname(slave)
            if self.link_path:
                _replace_link(self.link_path, slave_name)
        except BaseException:
            os.close(master)
            os.close(slave)
            raise
        self._master, self._slave, self._slave_name = master, slave, slave_name
        self.port_path = self.link_path or slave_name

    def _close_pty(self) -> None:
        if self.link_path and self._slave_name:
            try:
                if os.path.islink(self.link_path) \
                        and os.readlink(self.link_path) == self._slave_name:
                    os.unlink(self.link_path)
            except OSError:
                pass
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None
        self._slave_name = ''

    def _wake(self) -> None:
        fd = self._wake_w
        if fd is not None:
            try:
                os.write(fd, b'x')
            except OSError:  # the pipe is full (already woken) or closed
                pass

    def _advance(self) -> None:
        now = self._clock()
        if self._last_time is not None:
            self.firmware.model.advance(now - self._last_time)
        self._last_time = now

    def _run(self) -> None:
        while not self._stopping.is_set():
            now = time.monotonic()
            t = self.elapsed()
            active = self._active(t)
            wake_at = now + min(_IDLE_WAIT_S, self._next_change(t) - t)
            linger = self._linger_until
            if linger is not None:
                if self._slave is not None:
                    # Only the client holds the port now: its close reads as EIO here.
                    try:
                        os.close(self._slave)
                    except OSError:
                        pass
                    self._slave = None
                if now >= linger:
                    self.linger_end = 'time limit'
                    return
                if 'disconnect' in active or self._master is None:
                    self.linger_end = 'no client'
                    return
                wake_at = min(wake_at, linger)
            if 'disconnect' in active:
                if self._master is not None:
                    self._unplug()
                self._wait([], wake_at)
                continue
            if self._master is None and not self._replug():
                self._wait([], now + 0.1)
                continue
            master = self._master
            self._send_due(master, now)
            if self._delayed:
                wake_at = min(wake_at, self._delayed[0][0])
            garbage = active.get('garbage')
            if garbage is not None:
                if now >= self._next_junk:
                    self._send(master, self._junk(int(garbage.value)))
                    self._next_junk = now + JUNK_PERIOD_S
                wake_at = min(wake_at, self._next_junk)
            storm = active.get('error_storm')
            if storm is not None and self.firmware.protocol == 'ascii':
                if now >= self._next_storm:
                    lines = max(1, int(round(storm.value * STORM_PERIOD_S)))
                    self._send(master, STORM_LINE * lines)
                    self.storm_lines_total += lines
                    self._next_storm = now + STORM_PERIOD_S
                wake_at = min(wake_at, self._next_storm)
            if 'stall' in active:
                self._wait([], wake_at)
                continue
            if not self._wait([master], wake_at):
                continue
            try:
                data = os.read(master, 4096)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == errno.EIO and self._linger_until is not None:
                    # The client closed the port after the stop request (a servo parked).
                    self.linger_end = 'client closed the port'
                    return
                # EIO: no slave open; never expected since we hold one. Keep serving.
                self.last_error = 'read: {}'.format(exc)
                if exc.errno != errno.EIO:
                    return
                self._stopping.wait(0.05)
                continue
            with self._lock:
                self._advance()
                reply = self.firmware.handle(data, now=self._last_time)
            self._reply(master, reply, self._active(self.elapsed()))

    def _wait(self, fds: List[int], until: float) -> bool:
        """Wait until ``until`` (monotonic) or a wake-up; return True when an fd is readable."""
        wake_r = self._wake_r
        timeout = max(0.0, until - time.monotonic())
        try:
            ready, _, _ = select.select(fds + [wake_r], [], [], timeout)
        except (OSError, ValueError):
            self._stopping.wait(0.05)
            return False
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)
            except OSError:
                pass
        return any(fd in ready for fd in fds)

    def _reply(self, master: int, reply: bytes, active: Dict[str, SerialFault]) -> None:
        if 'silent' in active:
            if reply:
                self.replies_suppressed_total += 1
            return
        garbage = active.get('garbage')
        if garbage is not None:
            reply = self._junk(int(garbage.value))
        if not reply:
            return
        slow = active.get('slow')
        if slow is not None:
            due = time.monotonic() + slow.value
            if self._delayed:
                due = max(due, self._delayed[-1][0])  # replies keep their order
            self._delayed.append((due, reply))
            self.replies_delayed_total += 1
            return
        self._send(master, reply)

    def _send_due(self, master: int, now: float) -> None:
        while self._delayed and self._delayed[0][0] <= now:
            self._send(master, self._delayed.popleft()[1])

    def _unplug(self) -> None:
        self._close_pty()
        self._delayed.clear()
        self.disconnects_total += 1
        with self._lock:
            self.firmware.reset_input()

    def _replug(self) -> bool:
        try:
            self._open_pty()
        except OSError as exc:
            self.last_error = 'replug: {}'.format(exc)
            return False
        return True

    def _send(self, master: int, reply: bytes) -> None:
        try:
            written = os.write(master, reply)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            self.last_error = 'write: {}'.format(exc)
            written = 0
        # Nobody drains the port: like a real UART, the surplus is lost.
        self.bytes_dropped_total += len(reply) - written


def _replace_link(link_path: str, target: str) -> None:
    """Point the symlink ``link_path`` at ``target``, replacing a stale link atomically."""
    if os.path.lexists(link_path) and not os.path.islink(link_path):
        raise FileExistsError('link_path {!r} exists and is not a symlink; '
                              'refusing to replace it'.format(link_path))
    parent = os.path.dirname(os.path.abspath(link_path))
    os.makedirs(parent, exist_ok=True)
    temporary = '{}.{}.tmp'.format(link_path, os.getpid())
    if os.path.lexists(temporary):
        os.unlink(temporary)
    os.symlink(target, temporary)
    os.replace(temporary, link_path)
