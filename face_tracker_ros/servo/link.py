# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A serial link to the servo controller that survives unplugging, and its reconnect backoff.

:class:`SerialLink` wraps pyserial so that nothing a failing device does can
raise out of :meth:`SerialLink.write` or :meth:`SerialLink.read_available`:
any error closes the port, is counted, and leaves a one-line reason in
``last_error``.  The owner reopens it, paced by a :class:`Backoff`
(:class:`~face_tracker_ros.servo.connection.ServoConnection` does both).

The port is opened with ``exclusive=True``: pyserial takes an ``flock``
lock, so a second process that also asks for exclusivity (another servo
node, or pyserial's miniterm, which locks by default) cannot open it.  The lock is advisory: a
program that opens the device without asking (``cat``, ``screen``, the
Arduino IDE) is not stopped.
"""

import os
import select
import time
from typing import Optional

import serial

from face_tracker_ros.common.checks import check_positive
from face_tracker_ros.common.counters import Counters


def _posix_fd(port) -> Optional[int]:
    """Return the descriptor of a pyserial port opened on a device (POSIX), else None (URLs)."""
    posix = getattr(serial, 'serialposix', None)
    if posix is None or not isinstance(port, posix.Serial):
        return None
    fd = getattr(port, 'fd', None)
    return fd if isinstance(fd, int) else None


class Backoff:
    """Exponential backoff between reconnect attempts, driven by an injected clock.

    After the n-th consecutive :meth:`failed` the next attempt is allowed
    ``min(max_s, initial_s * factor ** (n - 1))`` seconds later.  :meth:`reset`
    (after a success) allows the next attempt at once.  ``attempts`` counts the
    consecutive failures and ``delay_s`` is the wait the latest one imposed.
    """

    def __init__(self, initial_s: float = 0.5, max_s: float = 5.0, factor: float = 2.0) -> None:
        """Validate the timing parameters; ValueError names the bad one."""
        self.initial_s = check_positive('initial_s', initial_s)
        self.max_s = check_positive('max_s', max_s)
        self.factor = check_positive('factor', factor)
        if self.max_s < self.initial_s:
            raise ValueError('max_s ({:g}) must be >= initial_s ({:g})'.format(
                self.max_s, self.initial_s))
        if self.factor < 1.0:
            raise ValueError('factor ({:g}) must be >= 1'.format(self.factor))
        self.attempts = 0
        self.delay_s = 0.0
        self._next_time: Optional[float] = None

    def ready(self, now: float) -> bool:
        """Return True when an attempt is allowed at time ``now`` (seconds)."""
        return self._next_time is None or now >= self._next_time

    def failed(self, now: float) -> None:
        """Record a failed attempt made at ``now``; the next one waits longer."""
        self.attempts += 1
        if self.attempts == 1:
            self.delay_s = self.initial_s
        else:
            self.delay_s = min(self.max_s, self.delay_s * self.factor)
        self._next_time = now + self.delay_s

    def reset(self) -> None:
        """Forget failures (call after a successful attempt)."""
        self.attempts = 0
        self.delay_s = 0.0
        self._next_time = None


class SerialLink:
    """A pyserial port that reports failures instead of raising them.

    ``port`` may be a device path (``/dev/ttyACM0``), a symlink to one (a udev
    name or the simulator's pty link) or a pyserial URL (``loop://``).  A write
    blocks at most ``write_timeout_s``; opening, reading and closing do not
    block.  ``exclusive`` asks for pyserial's advisory lock (see the module
    docstring).  ``counts``: opens, write and read errors, bytes written and read.
    Not thread-safe: use it from one thread.
    """

    def __init__(self, port: str, baudrate: int = 115200, write_timeout_s: float = 0.05,
                 exclusive: bool = True) -> None:
        """Store the settings (nothing is opened); ValueError names a bad one."""
        if not isinstance(port, str) or not port:
            raise ValueError('port ({!r}) must be a non-empty device path or URL'.format(port))
        if isinstance(baudrate, bool) or not isinstance(baudrate, int) or baudrate <= 0:
            raise ValueError('baudrate ({!r}) must be a positive integer, e.g. 115200'.format(
                baudrate))
        self.port = port
        self.baudrate = baudrate
        self.write_timeout_s = check_positive('write_timeout_s', write_timeout_s)
        self.exclusive = bool(exclusive)
        self.counts = Counters('opens_total', 'write_errors_total', 'read_errors_total',
                               'bytes_written_total', 'bytes_read_total')
        self.last_error = ''
        self._serial: Optional[serial.SerialBase] = None

    @property
    def is_open(self) -> bool:
        """Return True while the port is open."""
        return self._serial is not None

    def open(self) -> bool:
        """Open the port if needed; return True on success, False with ``last_error`` set.

        Bytes already waiting in the driver from before the open are discarded.
        """
        if self._serial is not None:
            return True
        try:
            port = serial.serial_for_url(
                self.port, baudrate=self.baudrate, timeout=0,
                write_timeout=self.write_timeout_s, exclusive=self.exclusive)
        except Exception as exc:  # any failure is reported, not raised
            self.last_error = 'open {}: {}'.format(self.port, _describe(exc))
            return False
        try:
            port.reset_input_buffer()
        except Exception:  # stale input is harmless, the parser copes
            pass
        self._serial = port
        self.counts.opens_total += 1
        return True

    def write(self, data: bytes) -> bool:
        """Send ``data``; on any error or a write stuck past the timeout, close, return False."""
        port = self._serial
        if port is None:
            self.last_error = 'write: port {} is not open'.format(self.port)
            return False
        try:
            fd = _posix_fd(port)
            written = port.write(data) if fd is None else self._write_fd(fd, data)
        except Exception as exc:  # unplugged, timed out, driver error
            self._fail('write', exc)
            self.counts.write_errors_total += 1
            return False
        if written is not None and written != len(data):
            self._fail('write', OSError('short write: {} of {} bytes'.format(
                written, len(data))))
            self.counts.write_errors_total += 1
            return False
        self.counts.bytes_written_total += len(data)
        return True

    def _write_fd(self, fd: int, data: bytes) -> int:
        """Write every byte to the port's descriptor; time out only when bytes are left.

        pyserial's own write checks its deadline after ``os.write`` even when
        every byte went out, so a process that waited for the CPU longer than
        the write timeout at that moment (a CPU quota, a busy machine) got
        "Write timeout" for bytes that were written, and the servo node took the
        controller for disconnected and dropped commands while it reconnected.
        Here the timeout runs while no byte can be written.
        """
        view = memoryview(data)
        deadline = time.monotonic() + self.write_timeout_s
        while view:
            try:
                count = os.write(fd, view)
            except BlockingIOError:
                count = 0
            if count:
                view = view[count:]
                deadline = time.monotonic() + self.write_timeout_s
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0.0 or not select.select([], [fd], [], remaining)[1]:
                raise serial.SerialTimeoutException(
                    'Write timeout ({} of {} bytes written)'.format(
                        len(data) - len(view), len(data)))
        return len(data)

    def read_available(self, max_bytes: int = 4096) -> bytes:
        """Return the bytes that have arrived (at most ``max_bytes``), b'' when none; never blocks.

        A device that vanished is detected here too: the port is closed, the
        error counted, and b'' returned.
        """
        port = self._serial
        if port is None or max_bytes <= 0:
            return b''
        try:
            data = bytes(port.read(max_bytes))
        except Exception as exc:  # unplugged or driver error
            self._fail('read', exc)
            self.counts.read_errors_total += 1
            return b''
        self.counts.bytes_read_total += len(data)
        return data

    def drain(self, timeout_s: float) -> bool:
        """Wait at most ``timeout_s`` for written bytes to leave the driver; True when they did.

        Use it before :meth:`close` with ``discard_output=False`` when the last
        bytes matter (parking at shutdown).  Never raises.
        """
        port = self._serial
        if port is None:
            return False
        deadline = time.monotonic() + max(0.0, timeout_s)
        while True:
            try:
                if not port.out_waiting:
                    return True
            except Exception:  # the driver cannot tell: assume the bytes are gone
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)

    def close(self, discard_output: bool = True) -> None:
        """Close the port (idempotent, never raises).

        With ``discard_output`` (the default) bytes not yet sent are dropped
        first, so stale commands never reach a controller after a reconnect and
        the close cannot wait for a hung device to take them (Linux lets a
        close wait up to 30 s for output to drain).
        """
        port = self._serial
        self._serial = None
        if port is not None:
            if discard_output:
                try:
                    port.reset_output_buffer()
                except Exception:  # a vanished device has nothing to discard
                    pass
            try:
                port.close()
            except Exception:  # closing a dead port may fail; it is closed anyway
                pass

    def _fail(self, what: str, exc: BaseException) -> None:
        self.last_error = '{} {}: {}'.format(what, self.port, _describe(exc))
        self.close()


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text.replace('\n', ' ')
