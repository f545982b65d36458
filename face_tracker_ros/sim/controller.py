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

Serial faults (unplug, garbage, silence, slow replies, a stall, an error storm) come
from a schedule or are injected at run time with :meth:`SimServoController.inject`;
:mod:`face_tracker_ros.sim.serial_faults` describes them.
"""

import collections
import errno
import math
import os
import random
import threading
import time
from typing import Callable, Deque, Dict, List, Optional, Sequence, Tuple, Union

from face_tracker_ros.common.counters import Counters
from face_tracker_ros.servo.calibration import AxisCalibration
from face_tracker_ros.sim.firmware import FirmwareConfig, SimFirmware
from face_tracker_ros.sim.pty_port import close_pty, open_pty, WakePipe
from face_tracker_ros.sim.serial_faults import (  # noqa: F401 - re-exported
    _FORM,
    DEFAULT_GARBAGE_BYTES,
    DEFAULT_SLOW_S,
    DEFAULT_STORM_PER_S,
    JUNK_PERIOD_S,
    parse_serial_faults,
    SERIAL_FAULT_KINDS,
    SerialFault,
    SerialFaultSchedule,
    STORM_LINE,
    STORM_PERIOD_S,
)
from face_tracker_ros.sim.servo_model import PanTiltModel, ServoAxisModel

_IDLE_WAIT_S = 0.5


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

    Counters (:attr:`counts`): ``disconnects_total`` (simulated unplugs),
    ``garbage_bytes_total``, ``replies_suppressed_total`` (replies withheld by
    ``silent``), ``replies_delayed_total`` (reply chunks held back by ``slow``),
    ``bytes_dropped_total`` (replies lost because nobody read the port) and
    ``storm_lines_total`` (error lines sent by ``error_storm``).
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
        self.firmware = SimFirmware(
            FirmwareConfig(protocol, pan_cal, tilt_cal, pan_channel, tilt_channel), model)
        if isinstance(faults, (str, bytes)):
            raise ValueError('faults ({!r}) must be a list of schedule entries {}'.format(
                faults, _FORM))
        schedule = [f for f in faults if isinstance(f, SerialFault)]
        schedule += parse_serial_faults([f for f in faults if not isinstance(f, SerialFault)],
                                        'faults')
        self.link_path = link_path
        self.port_path = ''
        self.counts = Counters('bytes_dropped_total', 'disconnects_total', 'garbage_bytes_total',
                               'replies_suppressed_total', 'replies_delayed_total',
                               'storm_lines_total')
        self.last_error = ''
        self._clock = clock
        self._lock = threading.Lock()
        self._last_time: Optional[float] = None
        self._master: Optional[int] = None
        self._slave: Optional[int] = None
        self._slave_name = ''
        self._waker: Optional[WakePipe] = None
        self._thread: Optional[threading.Thread] = None
        self._stopping = threading.Event()
        self._schedule = SerialFaultSchedule(schedule)
        self._rng = random.Random(fault_seed)
        self._delayed: Deque[Tuple[float, bytes]] = collections.deque()
        self._next_junk = 0.0
        self._next_storm = 0.0
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
            self._waker = WakePipe()
        except BaseException:
            self._close_pty()
            raise
        with self._lock:
            self._last_time = self._clock()
        self._schedule.start()
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
            commands = self.firmware.counts.commands_total
            self._linger_until = began + linger_s
            self._wake()
            thread.join(timeout=linger_s + 1.0)
            self.lingered_s = time.monotonic() - began
            self.linger_commands = self.firmware.counts.commands_total - commands
            if self.linger_end == 'client closed the port' and not self.linger_commands:
                self.linger_end = 'no client'
        self._stopping.set()
        self._wake()
        thread.join(timeout=5.0)
        self._thread = None
        self._close_pty()
        if self._waker is not None:
            self._waker.close()
        self._waker = None

    def angles(self) -> Tuple[float, float]:
        """Return the true physical ``(pan, tilt)`` in radians, advancing the model to now."""
        with self._lock:
            self._advance()
            return self.firmware.model.angles()

    # Faults --------------------------------------------------------------------

    def elapsed(self) -> float:
        """Return the seconds since :meth:`start` (0 before it), the schedule's time."""
        return self._schedule.elapsed()

    def inject(self, kind: str, duration_s: float, value: float = 0.0) -> SerialFault:
        """Start a fault now for ``duration_s`` seconds; ``value`` 0 means the kind's default.

        ValueError names the bad argument and the allowed kinds.  Thread-safe.
        """
        fault = self._schedule.inject(kind, duration_s, value)
        self._wake()
        return fault

    def clear_faults(self) -> None:
        """End every scheduled and injected fault now (thread-safe)."""
        self._schedule.clear()
        self._wake()

    def active_faults(self) -> List[str]:
        """Return the kinds of the faults active now."""
        return sorted(self._active(self.elapsed()))

    def _active(self, t: float) -> Dict[str, SerialFault]:
        return self._schedule.active(t)

    def _next_change(self, t: float) -> float:
        return self._schedule.next_change(t)

    def _junk(self, count: int) -> bytes:
        data = bytearray(self._rng.getrandbits(8) for _ in range(count))
        if self.firmware.config.protocol == 'ascii':
            data[0] |= 0x80  # never a valid line by accident
            data = data.replace(b'\n', b'\x80') + b'\n'
        self.counts.garbage_bytes_total += len(data)
        return bytes(data)

    # The pty -------------------------------------------------------------------

    def _open_pty(self) -> None:
        self._master, self._slave, self._slave_name = open_pty(self.link_path)
        self.port_path = self.link_path or self._slave_name

    def _close_pty(self) -> None:
        close_pty(self._master, self._slave, self._slave_name, self.link_path)
        self._master = self._slave = None
        self._slave_name = ''

    def _wake(self) -> None:
        waker = self._waker
        if waker is not None:
            waker.wake()

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
            if storm is not None and self.firmware.config.protocol == 'ascii':
                if now >= self._next_storm:
                    lines = max(1, int(round(storm.value * STORM_PERIOD_S)))
                    self._send(master, STORM_LINE * lines)
                    self.counts.storm_lines_total += lines
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
        ready = self._waker.wait(fds, until)
        if ready is None:
            self._stopping.wait(0.05)
            return False
        return ready

    def _reply(self, master: int, reply: bytes, active: Dict[str, SerialFault]) -> None:
        if 'silent' in active:
            if reply:
                self.counts.replies_suppressed_total += 1
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
            self.counts.replies_delayed_total += 1
            return
        self._send(master, reply)

    def _send_due(self, master: int, now: float) -> None:
        while self._delayed and self._delayed[0][0] <= now:
            self._send(master, self._delayed.popleft()[1])

    def _unplug(self) -> None:
        self._close_pty()
        self._delayed.clear()
        self.counts.disconnects_total += 1
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
        self.counts.bytes_dropped_total += len(reply) - written
