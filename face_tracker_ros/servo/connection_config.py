# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The settings of a servo connection, typed and checked once, when they are made."""

import dataclasses

from face_tracker_ros.common.checks import check_int, check_positive


@dataclasses.dataclass(frozen=True)
class ConnectionConfig:
    """How a :class:`~face_tracker_ros.servo.connection.ServoConnection` judges its controller.

    ValueError names a bad setting:

    * ``reply_timeout_s`` (1.0): longest wait for the reply to a request;
      unanswered that long, the controller counts as unresponsive.  During
      the handshake the request is repeated at this interval.
    * ``handshake_timeout_s`` (3.0, >= ``reply_timeout_s``): how long after an
      open the handshake may take; many Arduino boards reset when the port
      opens and answer only after 1-2 s.
    * ``keepalive_s`` (1.0): when no request expecting a reply was sent for
      this long, the handshake is sent as a keep-alive.  With ``maestro``
      (moves are not acknowledged) this is the only liveness check; with
      ``ascii`` every ``MOVE`` is acknowledged, so it only runs while idle.
    * ``max_garbage`` (5) and ``garbage_window_s`` (2.0): more garbage replies
      than this within the window, with no valid reply between them, close
      the port; fewer are only counted.
    * ``event_throttle_s`` (10.0): repeated events of one kind are reported at
      most this often.
    * ``max_events`` (200): events kept for the owner between two drains.
    """

    reply_timeout_s: float = 1.0
    handshake_timeout_s: float = 3.0
    keepalive_s: float = 1.0
    max_garbage: int = 5
    garbage_window_s: float = 2.0
    event_throttle_s: float = 10.0
    max_events: int = 200

    def __post_init__(self) -> None:
        """Check every setting; seconds become floats."""
        self._seconds('reply_timeout_s')
        self._seconds('handshake_timeout_s')
        if self.handshake_timeout_s < self.reply_timeout_s:
            raise ValueError('handshake_timeout_s ({:g}) must be >= reply_timeout_s ({:g})'
                             .format(self.handshake_timeout_s, self.reply_timeout_s))
        self._seconds('keepalive_s')
        check_int('max_garbage', self.max_garbage, low=0)
        self._seconds('garbage_window_s')
        self._seconds('event_throttle_s')
        check_int('max_events', self.max_events, low=1)

    def _seconds(self, name: str) -> None:
        value = check_positive(name, getattr(self, name), unit='seconds')
        object.__setattr__(self, name, value)
