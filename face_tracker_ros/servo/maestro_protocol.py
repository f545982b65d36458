# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The Pololu Maestro compact binary protocol, for two channels (see docs/serial-protocol.md)."""

import collections
from typing import Deque, List, Optional

from face_tracker_ros.servo import wire

#: Highest channel number of the largest Maestro (Mini Maestro 24).
MAX_CHANNEL = 23

MAESTRO_SET_TARGET = 0x84
MAESTRO_GET_POSITION = 0x90
MAESTRO_GET_ERRORS = 0xA1

#: Highest pulse width the Maestro's 14-bit quarter-microsecond target can carry.
MAESTRO_MAX_US = 0x3FFF / 4.0

#: Error register bits a Pololu Maestro defines (bits 0..8); higher bits mean a corrupt reply.
MAESTRO_ERROR_MASK = 0x01FF

_MAX_PENDING = 64


class MaestroProtocol(wire.ServoProtocol):
    """The Pololu Maestro compact protocol for two channels.

    Replies carry no framing, so the parser keeps a queue of the answers it
    expects, in the order the ``encode_*`` calls requested them.  Call
    :meth:`reset` when a request got no answer in time or the port reopened.
    """

    name = 'maestro'
    acks_moves = False

    def __init__(self, pan_channel: int = 0, tilt_channel: int = 1,
                 pan_center_us: float = 1500.0, tilt_center_us: float = 1500.0) -> None:
        """Create an encoder/parser for the given channels and home pulses."""
        self.pan_channel = pan_channel
        self.tilt_channel = tilt_channel
        self.pan_center_us = pan_center_us
        self.tilt_center_us = tilt_center_us
        self._expected: Deque[str] = collections.deque()
        self._partial = bytearray()
        self._pan_position: Optional[float] = None

    @property
    def pending_replies(self) -> int:
        """Return how many 2-byte answers are still outstanding."""
        return len(self._expected)

    def _set_target(self, channel: int, name: str, us: float) -> bytes:
        quarters = int(round(wire.check_pulse(name, us, MAESTRO_MAX_US) * 4.0))
        return bytes((MAESTRO_SET_TARGET, channel, quarters & 0x7F, (quarters >> 7) & 0x7F))

    def _expect(self, *what: str) -> None:
        if len(self._expected) + len(what) > _MAX_PENDING:
            # Nobody is answering: start over rather than grow without bound.
            self.reset()
        self._expected.extend(what)

    def encode_move(self, pan_us: float, tilt_us: float) -> bytes:
        """Return two Set Target commands (0x84) in quarter-microseconds; no reply follows."""
        return (self._set_target(self.pan_channel, 'pan_us', pan_us)
                + self._set_target(self.tilt_channel, 'tilt_us', tilt_us))

    def encode_query_positions(self) -> bytes:
        """Return two Get Position commands (0x90), pan first."""
        self._expect('pan', 'tilt')
        return bytes((MAESTRO_GET_POSITION, self.pan_channel,
                      MAESTRO_GET_POSITION, self.tilt_channel))

    def encode_handshake(self) -> bytes:
        """Return Get Errors (0xA1); error bits 0 parse as Pong."""
        self._expect('errors')
        return bytes((MAESTRO_GET_ERRORS,))

    def encode_home(self) -> bytes:
        """Return Set Target commands to the configured centre pulses."""
        return self.encode_move(self.pan_center_us, self.tilt_center_us)

    def reset(self) -> None:
        """Forget outstanding requests and partial replies."""
        self._expected.clear()
        self._partial.clear()
        self._pan_position = None

    def feed(self, data: bytes) -> List[wire.Reply]:
        """Match 2-byte answers to outstanding requests; other bytes are Garbage."""
        chunk = wire.as_bytes(data)
        if chunk is None:
            return [wire.Garbage(b'')]
        replies: List[wire.Reply] = []
        junk = bytearray()
        for byte in chunk:
            if not self._expected:
                junk.append(byte)
                continue
            if junk:
                replies.append(wire.Garbage(bytes(junk)))
                junk.clear()
            self._partial.append(byte)
            if len(self._partial) < 2:
                continue
            value = self._partial[0] | (self._partial[1] << 8)
            self._partial.clear()
            reply = self._answer(self._expected.popleft(), value)
            if reply is not None:
                replies.append(reply)
        if junk:
            replies.append(wire.Garbage(bytes(junk)))
        return replies

    def _answer(self, what: str, value: int) -> Optional[wire.Reply]:
        if what == 'errors':
            if value == 0:
                return wire.Pong()
            return wire.ErrorReply('MAESTRO', 'error bits 0x{:04X}'.format(value))
        if what == 'pan':
            self._pan_position = value / 4.0
            return None
        pan = self._pan_position
        self._pan_position = None
        if pan is None:
            return wire.Garbage(bytes((value & 0xFF, value >> 8)))
        return wire.Positions(pan, value / 4.0)


def maestro_error_bits(reply: wire.ErrorReply) -> Optional[int]:
    """Return the error register of a Maestro Get Errors answer, None for other errors."""
    if reply.code != 'MAESTRO':
        return None
    words = reply.text.split()
    try:
        return int(words[-1], 16)
    except (IndexError, ValueError):
        return None
