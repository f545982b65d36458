# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""What every servo controller protocol shares: the replies, the interface, the pulse check.

The protocols are in :mod:`~face_tracker_ros.servo.ascii_protocol` and
:mod:`~face_tracker_ros.servo.maestro_protocol`;
:func:`~face_tracker_ros.servo.protocols.make_protocol` makes one by name.
"""

import abc
import dataclasses
import math
from typing import List, Optional, Union


@dataclasses.dataclass(frozen=True)
class Ack:
    """The controller accepted a move or home command (ASCII ``OK``)."""


@dataclasses.dataclass(frozen=True)
class Pong:
    """The controller is alive (ASCII ``PONG``/``READY``, Maestro error bits 0)."""


@dataclasses.dataclass(frozen=True)
class Version:
    """The controller's free-text version string."""

    text: str


@dataclasses.dataclass(frozen=True)
class Positions:
    """The controller's current pulse widths in microseconds."""

    pan_us: float
    tilt_us: float


@dataclasses.dataclass(frozen=True)
class ErrorReply:
    """The controller reported an error: ``code`` (e.g. ``RANGE``, ``MAESTRO``) and text."""

    code: str
    text: str


@dataclasses.dataclass(frozen=True)
class Garbage:
    """Bytes that are not a valid reply (line noise, wrong baud rate, unsolicited data)."""

    data: bytes


Reply = Union[Ack, Pong, Version, Positions, ErrorReply, Garbage]


def check_pulse(name: str, value: float, highest: float) -> float:
    """Return ``value`` as float or raise ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not 0.0 <= value <= highest:
        raise ValueError('{} ({!r}) must be a pulse width in 0..{:g} us'.format(
            name, value, highest))
    return float(value)


def as_bytes(data: object) -> Optional[bytes]:
    """Return ``data`` as bytes, or None when it is not bytes-like."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    return None


class ServoProtocol(abc.ABC):
    """Encoder of host requests and incremental parser of controller replies."""

    name: str = ''
    acks_moves: bool = False

    @abc.abstractmethod
    def encode_move(self, pan_us: float, tilt_us: float) -> bytes:
        """Return the bytes that set both axes' target pulse widths (microseconds)."""

    @abc.abstractmethod
    def encode_query_positions(self) -> bytes:
        """Return the bytes that ask for both axes' current pulse widths."""

    @abc.abstractmethod
    def encode_handshake(self) -> bytes:
        """Return a request whose reply (a :class:`Pong`) proves a live controller."""

    @abc.abstractmethod
    def encode_home(self) -> bytes:
        """Return the bytes that park both axes at their centre pulse."""

    @abc.abstractmethod
    def feed(self, data: bytes) -> List[Reply]:
        """Parse controller-to-host bytes; return the replies completed so far.

        Accepts any chunking, never raises, keeps a bounded buffer.
        """

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget partial input and outstanding requests (call after a reconnect or timeout)."""
