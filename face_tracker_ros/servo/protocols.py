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

import abc
import collections
import dataclasses
import math
import re
from typing import Deque, List, Optional, Tuple, Union

PROTOCOLS = ('ascii', 'maestro')

#: Longest ASCII protocol line in characters, without the '\n' (and an optional '\r').
MAX_LINE_CHARS = 64

#: Highest channel number of the largest Maestro (Mini Maestro 24).
MAX_CHANNEL = 23

MAESTRO_SET_TARGET = 0x84
MAESTRO_GET_POSITION = 0x90
MAESTRO_GET_ERRORS = 0xA1

#: Highest pulse width the Maestro's 14-bit quarter-microsecond target can carry.
MAESTRO_MAX_US = 0x3FFF / 4.0

#: Highest pulse width the ASCII protocol encodes (four digits keep lines short).
ASCII_MAX_US = 9999.0

_MAX_PENDING = 64
_NUMBER = re.compile(r'[+-]?[0-9]+(\.[0-9]+)?\Z')
_ERR_LINE = re.compile(r' *ERR +([^ ]+)(.*)\Z')


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


def _check_pulse(name: str, value: float, highest: float) -> float:
    """Return ``value`` as float or raise ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not 0.0 <= value <= highest:
        raise ValueError('{} ({!r}) must be a pulse width in 0..{:g} us'.format(
            name, value, highest))
    return float(value)


def _as_bytes(data: object) -> Optional[bytes]:
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


class AsciiLineSplitter:
    r"""Split an ASCII protocol byte stream into lines, flagging bad ones.

    :meth:`feed` returns ``(kind, payload)`` events in stream order:

    * ``('line', body)``: a complete line ('\r\n' or '\n' removed, possibly
      empty) of printable ASCII (0x20..0x7E) of at most :data:`MAX_LINE_CHARS`.
    * ``('invalid', raw)``: a complete line holding a byte outside 0x20..0x7E.
    * ``('overlong', raw)``: emitted as soon as a line exceeds the limit, with its
      first bytes; the rest of that line, up to its '\n', is dropped silently.
    """

    def __init__(self, max_chars: int = MAX_LINE_CHARS) -> None:
        """Create a splitter for lines of at most ``max_chars`` characters."""
        self._max = max_chars
        self._buf = bytearray()
        self._discarding = False

    def reset(self) -> None:
        """Drop any partial line."""
        self._buf.clear()
        self._discarding = False

    def feed(self, data: bytes) -> List[Tuple[str, bytes]]:
        """Consume ``data`` and return the events it completes.

        Works a line at a time (not a byte at a time): a controller flooding the
        link with lines costs little to read.
        """
        events: List[Tuple[str, bytes]] = []
        *complete, rest = bytes(data).split(b'\n')
        limit = self._max + 1  # max chars plus one '\r'
        for segment in complete:
            if self._discarding:
                self._discarding = False
            else:
                self._buf += segment
                if len(self._buf) > limit:
                    events.append(('overlong', bytes(self._buf[:limit + 1])))
                else:
                    events.append(self._finish_line())
            self._buf.clear()
        if rest and not self._discarding:
            self._buf += rest
            if len(self._buf) > limit:
                # Room for max chars plus one '\r' is used up: the line is too long.
                events.append(('overlong', bytes(self._buf[:limit + 1])))
                self._buf.clear()
                self._discarding = True
        return events

    def _finish_line(self) -> Tuple[str, bytes]:
        raw = bytes(self._buf)
        body = raw[:-1] if raw.endswith(b'\r') else raw
        if len(body) > self._max:
            return ('overlong', raw)
        if any(b < 0x20 or b > 0x7E for b in body):
            return ('invalid', raw)
        return ('line', body)


class AsciiProtocol(ServoProtocol):
    r"""The face_tracker_ros ASCII line protocol (115200 8N1, '\n'-terminated lines)."""

    name = 'ascii'
    acks_moves = True

    def __init__(self) -> None:
        """Create a parser with an empty line buffer."""
        self._splitter = AsciiLineSplitter()

    def encode_move(self, pan_us: float, tilt_us: float) -> bytes:
        r"""Return ``MOVE <pan_us> <tilt_us>\n`` with pulses rounded to whole microseconds."""
        pan = _check_pulse('pan_us', pan_us, ASCII_MAX_US)
        tilt = _check_pulse('tilt_us', tilt_us, ASCII_MAX_US)
        return 'MOVE {:d} {:d}\n'.format(int(round(pan)), int(round(tilt))).encode('ascii')

    def encode_query_positions(self) -> bytes:
        r"""Return ``POS?\n``."""
        return b'POS?\n'

    def encode_handshake(self) -> bytes:
        r"""Return ``PING\n`` (answered by ``PONG``)."""
        return b'PING\n'

    def encode_home(self) -> bytes:
        r"""Return ``HOME\n`` (the controller parks both axes at 1500 us)."""
        return b'HOME\n'

    def encode_version(self) -> bytes:
        r"""Return ``VERSION\n``."""
        return b'VERSION\n'

    def reset(self) -> None:
        """Drop any partial line."""
        self._splitter.reset()

    def feed(self, data: bytes) -> List[Reply]:
        """Parse reply lines; blank lines are skipped, anything unrecognised is Garbage."""
        chunk = _as_bytes(data)
        if chunk is None:
            return [Garbage(b'')]
        replies: List[Reply] = []
        for kind, payload in self._splitter.feed(chunk):
            if kind != 'line':
                replies.append(Garbage(payload))
                continue
            text = payload.decode('ascii')
            if text.strip(' '):
                reply = _parse_ascii_reply(text)
                replies.append(reply if reply is not None else Garbage(payload))
        return replies


def _parse_ascii_reply(line: str) -> Optional[Reply]:
    """Return the reply a valid line means, or None."""
    words = [w for w in line.split(' ') if w]
    head = words[0]
    if head in ('PONG', 'READY') and len(words) == 1:
        return Pong()
    if head == 'OK' and len(words) == 1:
        return Ack()
    if head == 'VERSION':
        return Version(line.split('VERSION', 1)[1].strip(' '))
    if head == 'POS' and len(words) == 3 \
            and _NUMBER.match(words[1]) and _NUMBER.match(words[2]):
        return Positions(float(words[1]), float(words[2]))
    if head == 'ERR':
        match = _ERR_LINE.match(line)
        if match:
            return ErrorReply(match.group(1), match.group(2).strip(' '))
    return None


class MaestroProtocol(ServoProtocol):
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
        quarters = int(round(_check_pulse(name, us, MAESTRO_MAX_US) * 4.0))
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

    def feed(self, data: bytes) -> List[Reply]:
        """Match 2-byte answers to outstanding requests; other bytes are Garbage."""
        chunk = _as_bytes(data)
        if chunk is None:
            return [Garbage(b'')]
        replies: List[Reply] = []
        junk = bytearray()
        for byte in chunk:
            if not self._expected:
                junk.append(byte)
                continue
            if junk:
                replies.append(Garbage(bytes(junk)))
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
            replies.append(Garbage(bytes(junk)))
        return replies

    def _answer(self, what: str, value: int) -> Optional[Reply]:
        if what == 'errors':
            if value == 0:
                return Pong()
            return ErrorReply('MAESTRO', 'error bits 0x{:04X}'.format(value))
        if what == 'pan':
            self._pan_position = value / 4.0
            return None
        pan = self._pan_position
        self._pan_position = None
        if pan is None:
            return Garbage(bytes((value & 0xFF, value >> 8)))
        return Positions(pan, value / 4.0)


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
    _check_pulse('pan_center_us', pan_center_us, MAESTRO_MAX_US)
    _check_pulse('tilt_center_us', tilt_center_us, MAESTRO_MAX_US)
    if name == 'ascii':
        return AsciiProtocol()
    return MaestroProtocol(pan_channel, tilt_channel, float(pan_center_us),
                           float(tilt_center_us))
