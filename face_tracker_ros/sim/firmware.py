# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A servo controller's firmware without a transport: host bytes in, reply bytes out.

:class:`SimFirmware` speaks either protocol of docs/serial-protocol.md exactly
as the reference sketch (``ascii``) or a Pololu Maestro (``maestro``) would,
on top of a :class:`~face_tracker_ros.sim.servo_model.PanTiltModel`.  A move
sets the model's targets through the axis calibration (physical angle =
``cal.us_to_angle(us)``); a position query reports the model's current angle
as a pulse (``cal.angle_to_us(angle)``), so it shows the servo still slewing.
The firmware never advances the model: its owner does, with real or virtual time.
"""

from dataclasses import dataclass
import math
import re
from typing import Callable, Dict, List, Optional

from face_tracker_ros.common.counters import Counters
from face_tracker_ros.servo import protocols
from face_tracker_ros.servo.calibration import AxisCalibration
from face_tracker_ros.sim.servo_model import PanTiltModel

#: Text the ASCII firmware answers to ``VERSION``.
VERSION_TEXT = 'face_tracker_ros sim-firmware 1.0'

#: Pulse limits the ASCII firmware enforces on ``MOVE`` (``ERR RANGE`` outside).
ASCII_MIN_US = 500
ASCII_MAX_US = 2500

#: Pulse both axes go to on ``HOME``.
ASCII_HOME_US = 1500

#: Maestro error register bit set by a malformed or unknown command.
MAESTRO_PROTOCOL_ERROR = 0x0010

_INTEGER = re.compile(r'[+-]?[0-9]+\Z')
_MAX_ECHO = 40
_MAESTRO_LENGTHS = {
    protocols.MAESTRO_SET_TARGET: 4,
    protocols.MAESTRO_GET_POSITION: 2,
    protocols.MAESTRO_GET_ERRORS: 1,
}


@dataclass(frozen=True)
class FirmwareConfig:
    """What the emulated firmware is set to, checked when made (ValueError names the bad one).

    ``protocol`` is ``ascii`` or ``maestro``; each axis maps pulses to physical
    angles through its calibration; the Maestro channels are those of the pan
    and tilt servos.
    """

    protocol: str = 'ascii'
    pan_cal: AxisCalibration = AxisCalibration()
    tilt_cal: AxisCalibration = AxisCalibration()
    pan_channel: int = 0
    tilt_channel: int = 1

    def __post_init__(self) -> None:
        """Check the protocol name, the channels and both calibrations."""
        protocols.make_protocol(self.protocol, self.pan_channel, self.tilt_channel)
        self.pan_cal.validate('pan_cal')
        self.tilt_cal.validate('tilt_cal')


class SimFirmware:
    """Emulated controller firmware for the ``ascii`` or ``maestro`` protocol.

    Counters (:attr:`counts`): ``commands_total`` (complete commands received,
    valid or not) and ``errors_total`` (commands answered with ``ERR``, or
    Maestro protocol errors); ``last_command_time`` is the time of the latest
    valid command, from ``now`` or ``clock`` (None before the first).
    """

    def __init__(self, config: FirmwareConfig, model: PanTiltModel,
                 clock: Optional[Callable[[], float]] = None) -> None:
        """Power up with the (already checked) ``config`` on ``model``."""
        self.config = config
        self.model = model
        self.counts = Counters('commands_total', 'errors_total')
        self.last_command_time: Optional[float] = None
        self._clock = clock
        self._now: Optional[float] = None
        self._lines = protocols.AsciiLineSplitter()
        self._packet = bytearray()
        self._error_bits = 0
        self._other_targets: Dict[int, int] = {}

    def reset_input(self) -> None:
        """Forget a partial line or packet (the host's stream was cut: unplug, reconnect).

        The servos, the Maestro error register and the counters are kept.
        """
        self._lines.reset()
        self._packet.clear()

    def handle(self, data: bytes, now: Optional[float] = None) -> bytes:
        """Consume host bytes (any chunking) and return the reply bytes; never raises.

        ``now`` stamps ``last_command_time``; without it the ``clock`` given to
        the constructor is used, if any.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            return b''
        if now is None and self._clock is not None:
            now = self._clock()
        self._now = now
        if self.config.protocol == 'ascii':
            return self._handle_ascii(bytes(data))
        return self._handle_maestro(bytes(data))

    def _accepted(self) -> None:
        self.last_command_time = self._now

    def _set_target(self, cal: AxisCalibration, axis: str, us: float) -> None:
        getattr(self.model, axis).set_target(cal.us_to_angle(us))

    def _position_us(self, cal: AxisCalibration, axis: str) -> float:
        return cal.angle_to_us(getattr(self.model, axis).angle)

    # ASCII -----------------------------------------------------------------

    def _handle_ascii(self, data: bytes) -> bytes:
        out: List[str] = []
        for kind, payload in self._lines.feed(data):
            if kind == 'line':
                words = [w for w in payload.decode('ascii').split(' ') if w]
                if not words:
                    continue
                reply = self._ascii_command(words[0], words[1:])
            elif kind == 'overlong':
                reply = 'ERR SYNTAX line too long'
            else:
                reply = 'ERR SYNTAX non-ASCII or control byte'
            self.counts.commands_total += 1
            if reply.startswith('ERR '):
                self.counts.errors_total += 1
            else:
                self._accepted()
            out.append(reply + '\r\n')
        return ''.join(out).encode('ascii')

    def _ascii_command(self, cmd: str, args: List[str]) -> str:
        if cmd == 'MOVE':
            if len(args) != 2 or not all(_INTEGER.match(a) for a in args):
                return 'ERR SYNTAX usage: MOVE <pan_us> <tilt_us>'
            pan_us, tilt_us = int(args[0]), int(args[1])
            for name, us in (('pan_us', pan_us), ('tilt_us', tilt_us)):
                if not ASCII_MIN_US <= us <= ASCII_MAX_US:
                    return 'ERR RANGE {} not in {}..{}'.format(name, ASCII_MIN_US, ASCII_MAX_US)
            self._set_target(self.config.pan_cal, 'pan', pan_us)
            self._set_target(self.config.tilt_cal, 'tilt', tilt_us)
            return 'OK'
        replies = {'PING': 'PONG', 'VERSION': 'VERSION ' + VERSION_TEXT, 'POS?': '', 'HOME': 'OK'}
        if cmd not in replies:
            return 'ERR UNKNOWN ' + cmd[:_MAX_ECHO]
        if args:
            return 'ERR SYNTAX {} takes no arguments'.format(cmd)
        if cmd == 'POS?':
            return 'POS {:d} {:d}'.format(
                int(round(self._position_us(self.config.pan_cal, 'pan'))),
                int(round(self._position_us(self.config.tilt_cal, 'tilt'))))
        if cmd == 'HOME':
            self._set_target(self.config.pan_cal, 'pan', ASCII_HOME_US)
            self._set_target(self.config.tilt_cal, 'tilt', ASCII_HOME_US)
        return replies[cmd]

    # Maestro ---------------------------------------------------------------

    def _handle_maestro(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            if byte & 0x80:
                if self._packet:
                    self._protocol_error()  # an unfinished packet was interrupted
                self._packet.clear()
                if byte not in _MAESTRO_LENGTHS:
                    self._protocol_error()
                    continue
            elif not self._packet:
                self._protocol_error()  # a data byte outside any packet
                continue
            self._packet.append(byte)
            if len(self._packet) == _MAESTRO_LENGTHS[self._packet[0]]:
                out += self._maestro_command(bytes(self._packet))
                self._packet.clear()
        return bytes(out)

    def _protocol_error(self) -> None:
        self.counts.commands_total += 1
        self.counts.errors_total += 1
        self._error_bits |= MAESTRO_PROTOCOL_ERROR

    def _maestro_command(self, packet: bytes) -> bytes:
        command = packet[0]
        if command == protocols.MAESTRO_GET_ERRORS:
            bits, self._error_bits = self._error_bits, 0
            self.counts.commands_total += 1
            self._accepted()
            return bytes((bits & 0xFF, bits >> 8))
        channel = packet[1]
        if channel > 23:
            self._protocol_error()
            return b''
        self.counts.commands_total += 1
        self._accepted()
        if command == protocols.MAESTRO_SET_TARGET:
            quarters = packet[2] | (packet[3] << 7)
            if channel == self.config.pan_channel and quarters:
                self._set_target(self.config.pan_cal, 'pan', quarters / 4.0)
            elif channel == self.config.tilt_channel and quarters:
                self._set_target(self.config.tilt_cal, 'tilt', quarters / 4.0)
            else:
                self._other_targets[channel] = quarters
            return b''
        if channel == self.config.pan_channel:
            quarters = _quarters(self._position_us(self.config.pan_cal, 'pan'))
        elif channel == self.config.tilt_channel:
            quarters = _quarters(self._position_us(self.config.tilt_cal, 'tilt'))
        else:
            quarters = self._other_targets.get(channel, 0)
        return bytes((quarters & 0xFF, (quarters >> 8) & 0xFF))


def _quarters(us: float) -> int:
    """Return ``us`` in whole quarter-microseconds, clamped to 16 bits."""
    if not math.isfinite(us):
        return 0
    return min(0xFFFF, max(0, int(round(us * 4.0))))
