# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A simulated servo controller on a real pseudo-terminal, in wall-clock time.

:class:`SimServoController` runs :class:`~face_tracker_ros.sim.firmware.SimFirmware`
behind the master side of a pseudo-terminal.  Clients open :attr:`port_path`
(a symlink to the pty's slave, or the slave's ``/dev/pts/N``) with pyserial
exactly as they would open real hardware.  :meth:`stop` closes the master,
which a connected client sees as an unplugged device.
"""

import errno
import os
import select
import threading
import time
import tty
from typing import Callable, Optional, Tuple

from face_tracker_ros.servo.calibration import AxisCalibration
from face_tracker_ros.sim.firmware import SimFirmware
from face_tracker_ros.sim.servo_model import PanTiltModel, ServoAxisModel


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
    """The emulated firmware served on a pseudo-terminal by a reader thread.

    ``angles()`` may be called from any thread while the reader thread handles
    bytes; both advance the servo model to ``clock()`` under one lock, so a
    command takes effect at the time it is handled.
    """

    def __init__(self, protocol: str = 'ascii', link_path: Optional[str] = None,
                 pan_cal: AxisCalibration = AxisCalibration(),
                 tilt_cal: AxisCalibration = AxisCalibration(),
                 pan_channel: int = 0, tilt_channel: int = 1,
                 pan_limits: Tuple[float, float] = (-1.4, 1.4),
                 tilt_limits: Tuple[float, float] = (-0.8, 0.8),
                 max_speed_rad_s: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Build the model and firmware (nothing is opened); ValueError names a bad setting."""
        pan_low, pan_high = _limits('pan_limits', pan_limits)
        tilt_low, tilt_high = _limits('tilt_limits', tilt_limits)
        model = PanTiltModel(
            ServoAxisModel(pan_low, pan_high, max_speed_rad_s),
            ServoAxisModel(tilt_low, tilt_high, max_speed_rad_s))
        self.firmware = SimFirmware(protocol, model, pan_cal, tilt_cal, pan_channel,
                                    tilt_channel)
        self.link_path = link_path
        self.port_path = ''
        self.bytes_dropped_total = 0
        self.last_error = ''
        self._clock = clock
        self._lock = threading.Lock()
        self._last_time: Optional[float] = None
        self._master: Optional[int] = None
        self._slave: Optional[int] = None
        self._wake_r: Optional[int] = None
        self._wake_w: Optional[int] = None
        self._thread: Optional[threading.Thread] = None
        self._stopping = threading.Event()

    @property
    def model(self) -> PanTiltModel:
        """Return the servo model (hold no reference across threads without :meth:`angles`)."""
        return self.firmware.model

    def start(self) -> str:
        """Open the pty, link it, start the reader thread and return :attr:`port_path`.

        Raises OSError when the pty or the link cannot be made, and
        FileExistsError when ``link_path`` exists and is not a symlink.
        """
        if self._thread is not None:
            return self.port_path
        master, slave = os.openpty()
        try:
            tty.setraw(slave)
            os.set_blocking(master, False)
            slave_name = os.ttyname(slave)
            if self.link_path:
                _replace_link(self.link_path, slave_name)
            wake_r, wake_w = os.pipe()
        except BaseException:
            os.close(master)
            os.close(slave)
            raise
        self._master, self._slave = master, slave
        self._wake_r, self._wake_w = wake_r, wake_w
        self.port_path = self.link_path or slave_name
        with self._lock:
            self._last_time = self._clock()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name='sim-servo-controller',
                                        daemon=True)
        self._thread.start()
        return self.port_path

    def stop(self) -> None:
        """Stop the thread, remove the link and close the pty (idempotent)."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        try:
            os.write(self._wake_w, b'x')
        except OSError:
            pass
        thread.join(timeout=5.0)
        self._thread = None
        if self.link_path:
            try:
                if os.path.islink(self.link_path) and self._slave is not None \
                        and os.readlink(self.link_path) == os.ttyname(self._slave):
                    os.unlink(self.link_path)
            except OSError:
                pass
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = self._wake_r = self._wake_w = None

    def angles(self) -> Tuple[float, float]:
        """Return the true physical ``(pan, tilt)`` in radians, advancing the model to now."""
        with self._lock:
            self._advance()
            return self.firmware.model.angles()

    def _advance(self) -> None:
        now = self._clock()
        if self._last_time is not None:
            self.firmware.model.advance(now - self._last_time)
        self._last_time = now

    def _run(self) -> None:
        master, wake_r = self._master, self._wake_r
        while not self._stopping.is_set():
            try:
                ready, _, _ = select.select([master, wake_r], [], [], 0.5)
                if master not in ready:
                    continue
                data = os.read(master, 4096)
            except BlockingIOError:
                continue
            except OSError as exc:
                # EIO: no slave open; never expected since we hold one. Keep serving.
                self.last_error = 'read: {}'.format(exc)
                if exc.errno != errno.EIO:
                    return
                self._stopping.wait(0.05)
                continue
            with self._lock:
                self._advance()
                reply = self.firmware.handle(data, now=self._last_time)
            if reply:
                self._send(master, reply)

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
