# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
r"""The face_tracker_ros ASCII line protocol (see docs/serial-protocol.md).

A microcontroller (firmware/face_tracker_servo/face_tracker_servo.ino) answers
'\n'-terminated lines: ``MOVE``/``HOME`` with ``OK``, ``PING`` with ``PONG``,
``POS?`` with ``POS <pan> <tilt>``, ``VERSION`` with its version, errors with ``ERR``.
"""

import re
from typing import Callable, List, Optional, Tuple

from face_tracker_ros.servo import wire

#: Longest ASCII protocol line in characters, without the '\n' (and an optional '\r').
MAX_LINE_CHARS = 64

#: Highest pulse width the ASCII protocol encodes (four digits keep lines short).
ASCII_MAX_US = 9999.0

_NUMBER = re.compile(r'[+-]?[0-9]+(\.[0-9]+)?\Z')
_ERR_LINE = re.compile(r' *ERR +([^ ]+)(.*)\Z')


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


def _request(word: str, note: str = '') -> Callable[[wire.ServoProtocol], bytes]:
    r"""Return an ``encode_*`` method that sends ``<word>\n``, a request without arguments."""
    line = f'{word}\n'.encode('ascii')

    def encode(_protocol: wire.ServoProtocol) -> bytes:
        return line

    encode.__doc__ = f'Return ``{word}\\n``{note}.'
    return encode


class AsciiProtocol(wire.ServoProtocol):
    r"""The face_tracker_ros ASCII line protocol (115200 8N1, '\n'-terminated lines)."""

    name = 'ascii'
    acks_moves = True

    def __init__(self) -> None:
        """Create a parser with an empty line buffer."""
        self._splitter = AsciiLineSplitter()

    def encode_move(self, pan_us: float, tilt_us: float) -> bytes:
        r"""Return ``MOVE <pan_us> <tilt_us>\n`` with pulses rounded to whole microseconds."""
        pan = wire.check_pulse('pan_us', pan_us, ASCII_MAX_US)
        tilt = wire.check_pulse('tilt_us', tilt_us, ASCII_MAX_US)
        return 'MOVE {:d} {:d}\n'.format(int(round(pan)), int(round(tilt))).encode('ascii')

    encode_query_positions = _request('POS?')
    encode_handshake = _request('PING', ' (answered by ``PONG``)')
    encode_home = _request('HOME', ' (the controller parks both axes at 1500 us)')
    encode_version = _request('VERSION')

    def reset(self) -> None:
        """Drop any partial line."""
        self._splitter.reset()

    def feed(self, data: bytes) -> List[wire.Reply]:
        """Parse reply lines; blank lines are skipped, anything unrecognised is Garbage."""
        chunk = wire.as_bytes(data)
        if chunk is None:
            return [wire.Garbage(b'')]
        replies: List[wire.Reply] = []
        for kind, payload in self._splitter.feed(chunk):
            if kind != 'line':
                replies.append(wire.Garbage(payload))
                continue
            text = payload.decode('ascii')
            if text.strip(' '):
                reply = _parse_ascii_reply(text)
                replies.append(reply if reply is not None else wire.Garbage(payload))
        return replies


def _parse_ascii_reply(line: str) -> Optional[wire.Reply]:
    """Return the reply a valid line means, or None."""
    words = [w for w in line.split(' ') if w]
    head = words[0]
    if head in ('PONG', 'READY') and len(words) == 1:
        return wire.Pong()
    if head == 'OK' and len(words) == 1:
        return wire.Ack()
    if head == 'VERSION':
        return wire.Version(line.split('VERSION', 1)[1].strip(' '))
    if head == 'POS' and len(words) == 3 \
            and _NUMBER.match(words[1]) and _NUMBER.match(words[2]):
        return wire.Positions(float(words[1]), float(words[2]))
    if head == 'ERR':
        match = _ERR_LINE.match(line)
        if match:
            return wire.ErrorReply(match.group(1), match.group(2).strip(' '))
    return None
