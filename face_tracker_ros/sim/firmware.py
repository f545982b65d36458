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

import math
import re
from typing import Callable, Dict, List, Optional

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


class SimFirmware:
    """Emulated controller firmware for the ``ascii`` or ``maestro`` protocol.

    Counters: ``commands_total`` (complete commands received, valid or not),
    ``errors_total`` (commands answered with ``ERR``, or Maestro protocol
    errors) and ``last_command_time`` (time of the latest valid command, from
    ``now`` or ``clock``; None before the first).
    """

    def __init__(self, protocol: str, model: PanTiltModel, pan_cal: AxisCalibration,
                 tilt_cal: AxisCalibration, pan_channel: int = 0, tilt_channel: int = 1,
                 clock: Optional[Callable[[], float]] = None) -> None:
        """Validate the settings (ValueError names the bad one) and power up."""
        protocols.make_protocol(protocol, pan_channel, tilt_channel)  # validates name and channels
        pan_cal.validate('pan_cal')
        tilt_cal.validate('tilt_cal')
        self.protocol = protocol
        self.model = model
        self.pan_cal = pan_cal
        self.tilt_cal = tilt_cal
        self.pan_channel = pan_channel
        self.tilt_channel = tilt_channel
        self.commands_total = 0
        self.errors_total = 0
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
        if self.protocol == 'ascii':
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
            self.commands_total += 1
            if reply.startswith('ERR '):
                self.errors_total += 1
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
            self._set_target(self.pan_cal, 'pan', pan_us)
            self._set_target(self.tilt_cal, 'tilt', tilt_us)
            return 'OK'
        replies = {'PING': 'PONG', 'VERSION': 'VERSION ' + VERSION_TEXT, 'POS?': '', 'HOME': 'OK'}
        if cmd not in replies:
            return 'ERR UNKNOWN ' + cmd[:_MAX_ECHO]
        if args:
            return 'ERR SYNTAX {} takes no arguments'.format(cmd)
        if cmd == 'POS?':
            return 'POS {:d} {:d}'.format(
                int(round(self._position_us(self.pan_cal, 'pan'))),
                int(round(self._position_us(self.tilt_cal, 'tilt'))))
        if cmd == 'HOME':
            self._set_target(self.pan_cal, 'pan', ASCII_HOME_US)
            self._set_target(self.tilt_cal, 'tilt', ASCII_HOME_US)
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
        self.commands_total += 1
        self.errors_total += 1
        self._error_bits |= MAESTRO_PROTOCOL_ERROR

    def _maestro_command(self, packet: bytes) -> bytes:
        command = packet[0]
        if command == protocols.MAESTRO_GET_ERRORS:
            bits, self._error_bits = self._error_bits, 0
            self.commands_total += 1
            self._accepted()
            return bytes((bits & 0xFF, bits >> 8))
        channel = packet[1]
        if channel > 23:
            self._protocol_error()
            return b''
        self.commands_total += 1
        self._accepted()
        if command == protocols.MAESTRO_SET_TARGET:
            quarters = packet[2] | (packet[3] << 7)
            if channel == self.pan_channel and quarters:
                self._set_target(self.pan_cal, 'pan', quarters / 4.0)
            elif channel == self.tilt_channel and quarters:
                self._set_target(self.tilt_cal, 'tilt', quarters / 4.0)
            else:
                self._other_targets[channel] = quarters
            return b''
        if channel == self.pan_channel:
            quarters = _quarters(self._position_us(self.pan_cal, 'pan'))
        elif channel == self.tilt_channel:
            quarters = _quarters(self._position_us(self.tilt_cal, 'tilt'))
        else:
            quarters = self._other_targets.get(channel, 0)
        return bytes((quarters & 0xFF, (quarters >> 8) & 0xFF))


def _quarters(us: float) -> int:
    """Return ``us`` in whole quarter-microseconds, clamped to 16 bits."""
    if not math.isfinite(us):
        return 0
    return min(0xFFFF, max(0, int(round(us * 4.0))))
