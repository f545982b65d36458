# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The settings of a servo connection, typed and checked once, when they are made."""

import dataclasses
import functools
from typing import Any

from face_tracker_ros.common.checks import check_int, check_positive


def _seconds(default: float) -> Any:
    """Declare a setting of seconds > 0 (kept as a float), ``default`` when not given."""
    return dataclasses.field(default=default, metadata={
        'check': functools.partial(check_positive, unit='seconds')})


def _count(default: int, low: int) -> Any:
    """Declare an integer setting >= ``low``, ``default`` when not given."""
    return dataclasses.field(default=default, metadata={
        'check': functools.partial(check_int, low=low)})


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

    reply_timeout_s: float = _seconds(1.0)
    handshake_timeout_s: float = _seconds(3.0)
    keepalive_s: float = _seconds(1.0)
    max_garbage: int = _count(5, low=0)
    garbage_window_s: float = _seconds(2.0)
    event_throttle_s: float = _seconds(10.0)
    max_events: int = _count(200, low=1)

    def __post_init__(self) -> None:
        """Check every setting by the check declared with it, then the two timeouts together."""
        for field in dataclasses.fields(self):
            value = field.metadata['check'](field.name, getattr(self, field.name))
            object.__setattr__(self, field.name, value)  # seconds become floats
        if self.handshake_timeout_s < self.reply_timeout_s:
            raise ValueError('handshake_timeout_s ({:g}) must be >= reply_timeout_s ({:g})'
                             .format(self.handshake_timeout_s, self.reply_timeout_s))
