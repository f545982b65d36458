# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A self-healing connection to the servo controller: reconnect, handshake, liveness, resume.

:class:`ServoConnection` owns a :class:`~face_tracker_ros.servo.link.SerialLink`, a protocol
from :mod:`face_tracker_ros.servo.protocols` and a
:class:`~face_tracker_ros.servo.link.Backoff`.  Its owner calls :meth:`ServoConnection.poll`
from a periodic timer and :meth:`ServoConnection.send_move` whenever it has a new command;
neither blocks for longer than about one write timeout of the link, and neither raises on
anything the device does.

States: ``disconnected`` (port closed; reopened when the backoff allows), ``handshaking``
(port open, handshake sent, no answer yet) and ``connected``.  The port is closed and
reopened, with backoff, forever, when it cannot be opened, vanishes, a write times out, the
handshake is not answered within ``handshake_timeout_s``, a request is not answered within
``reply_timeout_s`` (unresponsive controller), or more than ``max_garbage`` garbage replies
arrive within ``garbage_window_s`` with no valid reply between them (wrong baud rate,
noise).  Commands produced while not connected are dropped and counted, never queued.  After
every successful handshake the last commanded position is sent again: the head resumes where
it was; if no face is seen, the tracker's own lost-face behaviour returns it home.

The connection does no logging itself: the owner takes its events with
:meth:`ServoConnection.drain_events` and logs every one; repeated events of one kind (open
failures, garbage, controller errors, invalid replies, re-sent targets) are throttled here
with a count of those left out (:class:`~face_tracker_ros.servo.events.EventLog`).

The replies are judged and counted by a
:class:`~face_tracker_ros.servo.replies.ReplyMonitor`; error replies never cause a write
storm (see :mod:`face_tracker_ros.servo.replies`), and ``recent_error_replies`` (last
:data:`ERROR_WINDOW_S` seconds) lets the owner show an error storm in its status.

Time is whatever clock the owner passes as ``now`` (seconds); serial timeouts are physical,
so pass a monotonic wall clock even under simulated time.
"""

from typing import Dict, List, Optional, Tuple

from face_tracker_ros.common.counters import Counters
from face_tracker_ros.servo.connection_config import ConnectionConfig
from face_tracker_ros.servo.events import EventLog, LEVELS  # noqa: F401 - re-exported
from face_tracker_ros.servo.link import Backoff, SerialLink
from face_tracker_ros.servo.replies import (  # noqa: F401 - ERROR_WINDOW_S re-exported
    ERROR_WINDOW_S,
    ReplyMonitor,
    ResendPacer,
    TOO_MUCH_GARBAGE,
    VALID,
)
from face_tracker_ros.servo.wire import Reply, ServoProtocol

#: The connection states, in the order a connection goes through them.
STATES = ('disconnected', 'handshaking', 'connected')

REASON_HANDSHAKE = 'no reply to handshake'
REASON_GARBAGE = 'garbage from the controller (wrong baud rate?)'

_MAX_CHUNKS_PER_POLL = 4


def _reply_figure(name: str) -> property:
    return property(lambda self: getattr(self.replies, name),
                    doc=f"The :class:`~face_tracker_ros.servo.replies.ReplyMonitor`'s {name}.")


class ServoConnection:
    """Keeps a servo controller link alive and sends moves over it.

    The settings are a :class:`~face_tracker_ros.servo.connection_config.ConnectionConfig`
    (``config``) or its fields as keywords.  ``initial_us``: ``(pan_us, tilt_us)``
    sent after the first handshake when no move was requested yet (usually the
    home pulses); None sends nothing.  ValueError names a bad setting.
    What happened is counted in ``counts`` (the connection's own events),
    ``replies.counts`` (the replies) and ``link.counts`` (the port).
    """

    last_reply_time = _reply_figure('last_reply_time')
    last_positions = _reply_figure('last_positions')
    reply_delay = _reply_figure('reply_delay')

    def __init__(self, link: SerialLink, protocol: ServoProtocol,
                 backoff: Optional[Backoff] = None, config: Optional[ConnectionConfig] = None,
                 *, initial_us: Optional[Tuple[float, float]] = None, **settings) -> None:
        """Check the settings; nothing is opened until the first :meth:`poll`."""
        if not isinstance(link, SerialLink):
            raise ValueError('link ({!r}) must be a SerialLink'.format(link))
        if not isinstance(protocol, ServoProtocol):
            raise ValueError('protocol ({!r}) must be a ServoProtocol from make_protocol(); '
                             'allowed: ascii, maestro'.format(protocol))
        if backoff is not None and not isinstance(backoff, Backoff):
            raise ValueError('backoff ({!r}) must be a Backoff or None'.format(backoff))
        if config is not None and settings:
            raise TypeError('give the settings as config or as keywords, not both')
        self.config = c = config if config is not None else ConnectionConfig(**settings)
        self.link = link
        self.protocol = protocol
        self.backoff = backoff if backoff is not None else Backoff()
        self._last_us: Optional[Tuple[float, float]] = None
        if initial_us is not None:
            self._last_us = self._checked_pulses(initial_us, 'initial_us')

        self._state = 'disconnected'
        self.counts = Counters('connects_total', 'open_attempts', 'open_failures',
                               'commands_sent', 'commands_dropped', 'resends',
                               'resends_skipped')
        self._resend_pacer = ResendPacer()
        self.last_error = ''
        self.last_disconnect_reason = ''
        self.disconnected_since: Optional[float] = None
        self.last_command_time: Optional[float] = None

        self._events = EventLog(c.event_throttle_s, c.max_events)
        self._event = self._events.add
        self.replies = ReplyMonitor(protocol.name, self._events, c.max_garbage,
                                    c.garbage_window_s)
        self._opened_at = 0.0
        self._handshake_sent_at = 0.0
        self._awaiting_since: Optional[float] = None
        self._last_request_at = 0.0

    @property
    def state(self) -> str:
        """Return ``'disconnected'``, ``'handshaking'`` or ``'connected'``."""
        return self._state

    @property
    def is_connected(self) -> bool:
        """Return True once the handshake succeeded and until the link is lost."""
        return self._state == 'connected'

    @property
    def reconnects(self) -> int:
        """Return the successful handshakes after the first one."""
        return max(0, self.counts.connects_total - 1)

    @property
    def last_commanded_us(self) -> Optional[Tuple[float, float]]:
        """Return the latest requested ``(pan_us, tilt_us)``, sent or dropped."""
        return self._last_us

    def poll(self, now: float) -> None:
        """Do the periodic work: reconnect, read and check replies, time out, keep alive.

        Call it from a timer (10-50 Hz).  Never raises; an unexpected internal
        error is reported as an ``'error'`` event and the port is reopened.
        """
        try:
            self._poll(now)
        except Exception as exc:  # a bug here must not stop the executor
            self._event('error', 'internal error in the servo connection: {}: {}'.format(
                type(exc).__name__, exc))
            self._lose(now, 'internal error: {}'.format(exc))

    def send_move(self, pan_us: float, tilt_us: float, now: float) -> bool:
        """Send a move now; return True when it was written.

        The position is remembered (and re-sent after the next handshake) even
        when it cannot be sent: while not connected the command is dropped
        and counted, never queued.  Invalid pulses (not a finite number the
        protocol can encode) are dropped with an ``'error'`` event.
        """
        try:
            data = self.protocol.encode_move(pan_us, tilt_us)
        except (ValueError, TypeError) as exc:
            self.counts.commands_dropped += 1
            self.last_error = str(exc)
            self._event('error', 'move rejected: {}'.format(exc), now, 'invalid_move')
            return False
        self._last_us = (float(pan_us), float(tilt_us))
        try:
            if self._state != 'connected':
                self.counts.commands_dropped += 1
                return False
            if self._write(data, now, self.protocol.acks_moves):
                self.counts.commands_sent += 1
                self.last_command_time = now
                return True
        except Exception as exc:  # never let a bug escape into the caller's callback
            self._event('error', 'internal error sending a move: {}: {}'.format(
                type(exc).__name__, exc))
            self._lose(now, 'internal error: {}'.format(exc))
        self.counts.commands_dropped += 1
        return False

    def park(self, pan_us: float, tilt_us: float) -> bool:
        """Send one move to ``(pan_us, tilt_us)`` and close the port (for shutdown).

        Best effort: when the port is not open nothing is attempted (no
        reconnect).  Waits at most one write timeout for the bytes to leave
        the driver.  Returns True when the move was written.
        """
        try:
            data = self.protocol.encode_move(pan_us, tilt_us)
        except (ValueError, TypeError) as exc:
            self._event('error', 'servos not parked: {}'.format(exc))
            self.close()
            return False
        ok = self.link.is_open and self.link.write(data)
        if ok:
            drained = self.link.drain(self.link.write_timeout_s)
            self.link.close(discard_output=not drained)
            self._event('info', 'servos parked at pan {:.0f} us, tilt {:.0f} us'.format(
                float(pan_us), float(tilt_us)))
        else:
            self._event('warning', 'servos not parked: port {} is not usable ({})'.format(
                self.link.port, self.link.last_error or 'not open'))
        self.close()
        return ok

    def close(self) -> None:
        """Close the port without parking; :meth:`poll` reopens it."""
        self.link.close()
        if self._state != 'disconnected':
            self._state = 'disconnected'

    def drain_events(self) -> List[Tuple[str, str]]:
        """Return and forget the ``(level, message)`` events recorded since the last call."""
        return self._events.drain()

    @property
    def events_lost(self) -> int:
        """Return the events dropped because the owner did not drain them in time."""
        return self._events.lost

    def stats(self, now: float) -> Dict[str, object]:
        """Return the counters and state for diagnostics (ages in seconds, None when unknown)."""
        return {
            'state': self._state,
            'connected': self._state == 'connected',
            'port': self.link.port,
            'protocol': self.protocol.name,
            **self.counts.as_dict(),
            'reconnects': self.reconnects,
            'write_errors_total': self.link.counts.write_errors_total,
            'read_errors_total': self.link.counts.read_errors_total,
            **self.replies.figures(now),
            'last_command_age_s': None if self.last_command_time is None
            else now - self.last_command_time,
            'last_error': self.last_error,
            'last_disconnect_reason': self.last_disconnect_reason,
            'disconnected_since': self.disconnected_since,
            'backoff_s': self.backoff.delay_s,
        }

    def _checked_pulses(self, pulses: Tuple[float, float], name: str) -> Tuple[float, float]:
        try:
            pan_us, tilt_us = pulses
            self.protocol.encode_move(pan_us, tilt_us)
        except (TypeError, ValueError) as exc:
            raise ValueError('{} ({!r}) must be a (pan_us, tilt_us) pair of pulse widths: {}'
                             .format(name, pulses, exc)) from None
        return float(pan_us), float(tilt_us)

    def _poll(self, now: float) -> None:
        if not self.link.is_open:
            if self._state != 'disconnected':
                self._lose(now, self.link.last_error or 'port closed')
            self._try_open(now)
            return
        self._read(now)
        if not self.link.is_open:
            return
        if self._state == 'handshaking':
            if now - self._opened_at > self.config.handshake_timeout_s:
                self._lose(now, REASON_HANDSHAKE)
            elif now - self._handshake_sent_at >= self.config.reply_timeout_s:
                self._send_handshake(now)
        elif self._state == 'connected':
            waiting = self._awaiting_since
            if waiting is not None and now - waiting > self.config.reply_timeout_s:
                self._lose(now, 'no reply for {:.1f} s (controller unresponsive)'.format(
                    now - waiting))
            elif waiting is None and now - self._last_request_at >= self.config.keepalive_s:
                self._send_handshake(now)

    def _try_open(self, now: float) -> None:
        if self.disconnected_since is None:
            self.disconnected_since = now
        if not self.backoff.ready(now):
            return
        self.counts.open_attempts += 1
        attempt = self.backoff.attempts + 1
        if not self.link.open():
            self.counts.open_failures += 1
            self.last_error = self.link.last_error
            self.backoff.failed(now)
            self._event('warning', 'cannot open servo port ({}); attempt {}, next in {:.1f} s'
                        .format(self.link.last_error, attempt, self.backoff.delay_s),
                        now, 'open')
            return
        self.protocol.reset()
        self.replies.forget_garbage()
        self._awaiting_since = None
        self._opened_at = now
        self._state = 'handshaking'
        self._event('info', 'opened {} (attempt {}); handshaking ({})'.format(
            self.link.port, attempt, self.protocol.name))
        self._send_handshake(now)

    def _send_handshake(self, now: float) -> bool:
        self._handshake_sent_at = now
        return self._write(self.protocol.encode_handshake(), now, True)

    def _write(self, data: bytes, now: float, expects_reply: bool) -> bool:
        if self.link.write(data):
            if expects_reply:
                self._last_request_at = now
                if self._awaiting_since is None:
                    self._awaiting_since = now
            return True
        self._lose(now, self.link.last_error or 'write failed')
        return False

    def _read(self, now: float) -> None:
        for _ in range(_MAX_CHUNKS_PER_POLL):
            data = self.link.read_available()
            if not data:
                break
            for reply in self.protocol.feed(data):
                self._on_reply(reply, now)
                if not self.link.is_open:
                    return
        if not self.link.is_open and self._state != 'disconnected':
            self._lose(now, self.link.last_error or 'read failed')

    def _on_reply(self, reply: Reply, now: float) -> None:
        verdict, bits, handshake_answer = self.replies.take(reply, now, self._awaiting_since)
        if verdict == TOO_MUCH_GARBAGE:
            self._lose(now, REASON_GARBAGE)
        if verdict != VALID:
            return
        self._awaiting_since = None
        if self._state == 'handshaking' and handshake_answer:
            self._on_connected(now)
        elif self._state == 'connected' and bits:
            # A Maestro that saw an error may have sent its servos to their home
            # (or off) positions: command the current targets again.
            self._resend_after_error(now, 'after Maestro error bits 0x{:04X}'.format(bits))

    def _resend_after_error(self, now: float, why: str) -> None:
        if self._resend_pacer.ready(now):
            self._resend(now, why, key='resend')
        else:
            self.counts.resends_skipped += 1

    def _on_connected(self, now: float) -> None:
        self._state = 'connected'
        self.counts.connects_total += 1
        self.backoff.reset()
        if self.counts.connects_total > 1 and self.disconnected_since is not None:
            how = 'reconnected after {:.1f} s'.format(max(0.0, now - self.disconnected_since))
        else:
            how = 'connected'
        self.disconnected_since = None
        self._last_request_at = now
        self._event('info', 'servo controller {} on {} ({})'.format(
            how, self.link.port, self.protocol.name))
        self._resend(now, 'resuming')

    def _resend(self, now: float, why: str, key: Optional[str] = None) -> None:
        if self._last_us is None:
            return
        pan_us, tilt_us = self._last_us
        if self._write(self.protocol.encode_move(pan_us, tilt_us), now,
                       self.protocol.acks_moves):
            self.counts.resends += 1
            self.last_command_time = now
            self._event('info', 'sent pan {:.0f} us, tilt {:.0f} us again ({})'.format(
                pan_us, tilt_us, why), now, key)

    def _lose(self, now: float, reason: str) -> None:
        was = self._state
        self.link.close()
        self._state = 'disconnected'
        self._awaiting_since = None
        self.replies.forget_garbage()
        self.last_error = reason
        self.last_disconnect_reason = reason
        if self.disconnected_since is None:
            self.disconnected_since = now
        self.backoff.failed(now)
        if was == 'connected':
            self._event('warning', 'servo controller disconnected from {}: {}; commands are '
                        'dropped until it is back, reconnecting in {:.1f} s'.format(
                            self.link.port, reason, self.backoff.delay_s))
        elif was == 'handshaking':
            self._event('warning', 'servo controller on {} not usable: {}; retry {} in '
                        '{:.1f} s'.format(self.link.port, reason, self.backoff.attempts + 1,
                                          self.backoff.delay_s), now, 'handshake')
