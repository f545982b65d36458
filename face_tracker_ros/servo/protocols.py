# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Servo controller wire protocols: values to bytes and bytes to replies.

Two protocols are supported (docs/serial-protocol.md describes both in full):

* ``ascii``: a line protocol for a microcontroller (see
  firmware/face_tracker_servo/face_tracker_servo.ino).
* ``maestro``: the Pololu Maestro compact binary protocol.

Nothing here touches a port: :meth:`ServoProtocol.encode_move` and friends
return the bytes to send, :meth:`ServoProtocol.feed` turns whatever bytes came
back (in any chunking) into reply objects.  ``feed`` never raises.
"""

from face_tracker_ros.servo.ascii_protocol import (  # noqa: F401 - re-exported
    ASCII_MAX_US,
    AsciiLineSplitter,
    AsciiProtocol,
    MAX_LINE_CHARS,
)
from face_tracker_ros.servo.maestro_protocol import (  # noqa: F401 - re-exported
    MAESTRO_GET_ERRORS,
    MAESTRO_GET_POSITION,
    MAESTRO_MAX_US,
    MAESTRO_SET_TARGET,
    MaestroProtocol,
    MAX_CHANNEL,
)
from face_tracker_ros.servo.wire import (  # noqa: F401 - re-exported
    Ack,
    check_pulse,
    ErrorReply,
    Garbage,
    Pong,
    Positions,
    Reply,
    ServoProtocol,
    Version,
)

PROTOCOLS = ('ascii', 'maestro')


def _check_channel(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CHANNEL:
        raise ValueError('{} ({!r}) must be an integer channel in 0..{}'.format(
            name, value, MAX_CHANNEL))
    return value


def make_protocol(name: str, pan_channel: int = 0, tilt_channel: int = 1,
                  pan_center_us: float = 1500.0,
                  tilt_center_us: float = 1500.0) -> ServoProtocol:
    """Return a fresh protocol object; ValueError names the bad parameter and allowed values.

    Channels and centre pulses are used by ``maestro``; they are validated for
    both protocols so a configuration error never hides until the hardware changes.
    """
    if name not in PROTOCOLS:
        raise ValueError('protocol {!r} is not supported; allowed: {}'.format(
            name, ', '.join(PROTOCOLS)))
    _check_channel('pan_channel', pan_channel)
    _check_channel('tilt_channel', tilt_channel)
    if pan_channel == tilt_channel:
        raise ValueError('pan_channel and tilt_channel ({}) must differ'.format(pan_channel))
    check_pulse('pan_center_us', pan_center_us, MAESTRO_MAX_US)
    check_pulse('tilt_center_us', tilt_center_us, MAESTRO_MAX_US)
    if name == 'ascii':
        return AsciiProtocol()
    return MaestroProtocol(pan_channel, tilt_channel, float(pan_center_us),
                           float(tilt_center_us))
