# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The replies side of the servo connection: which replies are valid, counting them, re-sends.

:class:`ReplyMonitor` judges and counts the replies of one
:class:`~face_tracker_ros.servo.connection.ServoConnection` and tells it when
garbage means a link that cannot work (wrong baud rate, noise).

Error replies never cause a write storm: only a Maestro's error register (the
answer to its Get Errors request) makes the targets be sent again, an ``ERR``
line on an ASCII link is counted and logged but not answered with anything,
and the re-sends after errors are paced by :class:`ResendPacer`: the first at
once, later ones no sooner than :data:`RESEND_MIN_S` after the previous, the
gap doubling up to :data:`RESEND_MAX_S` while errors go on and starting over
after that long without one.
"""

import collections
import math
from typing import Deque, Dict, Optional, Tuple

from face_tracker_ros.common.counters import Counters
from face_tracker_ros.common.stats import WindowStats
from face_tracker_ros.servo.events import EventLog
from face_tracker_ros.servo.maestro_protocol import (
    maestro_error_bits,
    MAESTRO_ERROR_MASK,
    MAESTRO_MAX_US,
)
from face_tracker_ros.servo.wire import Ack, ErrorReply, Garbage, Pong, Positions, Reply, Version

#: Shortest and longest gap between two re-sends of the targets after controller errors (s).
RESEND_MIN_S = 0.1
RESEND_MAX_S = 5.0

#: Window of :meth:`ReplyMonitor.recent_errors` (``recent_error_replies``), seconds.
ERROR_WINDOW_S = 5.0

#: What :meth:`ReplyMonitor.take` makes of a reply.
VALID = 'valid'
IGNORED = 'ignored'
TOO_MUCH_GARBAGE = 'too_much_garbage'


def valid_pulse(us: float) -> bool:
    """Return True for a pulse width a controller can report (0..MAESTRO_MAX_US us)."""
    return math.isfinite(us) and 0.0 <= us <= MAESTRO_MAX_US


def reply_problem(reply: Reply, protocol: str) -> Tuple[Optional[str], Optional[int]]:
    """Return why a reply (not Garbage) is invalid (None: valid) and its Maestro error bits.

    Only a Maestro link (``protocol`` ``'maestro'``) carries an error register;
    the same words in an ASCII ``ERR`` line are just an error reply (never a
    handshake answer, never a reason to resend): their bits are None.
    """
    if isinstance(reply, Positions) and not (
            valid_pulse(reply.pan_us) and valid_pulse(reply.tilt_us)):
        return 'position out of range: pan {!r} us, tilt {!r} us'.format(
            reply.pan_us, reply.tilt_us), None
    bits = maestro_error_bits(reply) if isinstance(reply, ErrorReply) and \
        protocol == 'maestro' else None
    if bits is not None and bits & ~MAESTRO_ERROR_MASK:
        return 'undefined Maestro error bits 0x{:04X}'.format(bits), bits
    if not isinstance(reply, (Ack, Pong, Version, Positions, ErrorReply)):
        return 'unexpected reply {!r}'.format(reply), bits
    return None, bits


class ResendPacer:
    """Paces the re-sends of the targets after controller errors (see the module text)."""

    def __init__(self) -> None:
        """Allow the first re-send at once."""
        self._last: Optional[float] = None
        self._gap = 0.0

    def ready(self, now: float) -> bool:
        """Return True when a re-send may go now (and count it as sent), False to skip it."""
        last = self._last
        if last is not None:
            gap = self._gap
            if now - last < gap:
                return False
            # Errors go on: wait longer before the next re-send; a quiet spell starts over.
            self._gap = RESEND_MIN_S if now - last >= RESEND_MAX_S else \
                min(RESEND_MAX_S, max(RESEND_MIN_S, gap * 2.0))
        else:
            self._gap = RESEND_MIN_S
        self._last = now
        return True


class ReplyMonitor:
    """Judges and counts the replies of one connection; errors and oddities become events.

    More than ``max_garbage`` garbage replies within ``garbage_window_s``
    seconds, with no valid reply between them, are :data:`TOO_MUCH_GARBAGE`:
    the connection closes the port.  Fewer are only counted.  ``counts``: the
    valid, error, garbage and invalid replies.
    """

    def __init__(self, protocol: str, events: EventLog, max_garbage: int,
                 garbage_window_s: float) -> None:
        """Judge replies of ``protocol`` (a name); report to ``events``."""
        self.protocol = protocol
        self.max_garbage = max_garbage
        self.garbage_window_s = garbage_window_s
        self._events = events
        self.counts = Counters('replies_ok', 'error_replies', 'garbage_replies',
                               'invalid_replies')
        self.last_reply_time: Optional[float] = None
        self.last_positions: Optional[Positions] = None
        # How long valid replies took (from the oldest unanswered request), last 5 s.
        self.reply_delay = WindowStats(window_s=5.0)
        self._garbage_times: Deque[float] = collections.deque()
        self._error_times: Deque[float] = collections.deque(maxlen=10000)

    def forget_garbage(self) -> None:
        """Start the garbage count over (the port was closed or reopened)."""
        self._garbage_times.clear()

    def recent_errors(self, now: float) -> int:
        """Return the error replies within the last :data:`ERROR_WINDOW_S` seconds."""
        times = self._error_times
        while times and now - times[0] > ERROR_WINDOW_S:
            times.popleft()
        return len(times)

    def figures(self, now: float) -> Dict[str, object]:
        """Return the counters, ``recent_error_replies`` and the reply ages and delays (s, ms)."""
        return {
            **self.counts.as_dict(),
            'recent_error_replies': self.recent_errors(now),
            'last_reply_age_s': None if self.last_reply_time is None
            else now - self.last_reply_time,
            'reply_delay_ms_max': None if self.reply_delay.max is None
            else self.reply_delay.max * 1000.0,
        }

    def take(self, reply: Reply, now: float,
             awaiting_since: Optional[float]) -> Tuple[str, Optional[int], bool]:
        """Judge and count a reply; return (verdict, Maestro error bits, handshake answer).

        ``awaiting_since``: when the oldest unanswered request was sent (None: none).
        """
        if isinstance(reply, Garbage):
            return self._garbage(reply, now), None, False
        problem, bits = reply_problem(reply, self.protocol)
        if problem is not None:
            self.counts.invalid_replies += 1
            self._events.add('warning', 'invalid reply from the servo controller ignored: '
                             + problem, now, 'invalid')
            return IGNORED, None, False
        # A valid reply: the controller is alive and the baud rate is right.
        self.last_reply_time = now
        if awaiting_since is not None:
            self.reply_delay.add(max(0.0, now - awaiting_since))
        self._garbage_times.clear()
        if isinstance(reply, ErrorReply):
            self.counts.error_replies += 1
            self._error_times.append(now)
            self._events.add('warning', 'servo controller error: {} {}'.format(
                reply.code, reply.text).rstrip(), now, 'error_reply')
        else:
            self.counts.replies_ok += 1
        if isinstance(reply, Positions):
            self.last_positions = reply
        return VALID, bits, isinstance(reply, Pong) or bits is not None

    def _garbage(self, reply: Garbage, now: float) -> str:
        self.counts.garbage_replies += 1
        self._events.add('warning', 'unexpected bytes from the servo controller: {!r}'.format(
            bytes(reply.data[:32])), now, 'garbage')
        times = self._garbage_times
        times.append(now)
        while times and now - times[0] > self.garbage_window_s:
            times.popleft()
        return TOO_MUCH_GARBAGE if len(times) > self.max_garbage else IGNORED
