# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Events for the owner to log: human-readable lines, repeated ones of a kind throttled.

ROS-free and logger-free: the owner takes the ``(level, message)`` pairs with
:meth:`EventLog.drain` and logs every one (levels ``'info'``, ``'warning'``,
``'error'``, the names of the logger methods).
"""

import collections
from typing import Deque, Dict, List, Optional, Tuple

#: Event levels (names of the methods of a Python or rclpy logger).
LEVELS = ('info', 'warning', 'error')


class EventLog:
    """A bounded queue of events; events of one ``key`` pass at most every ``throttle_s``.

    The next event of a key after the throttled ones says how many were left
    out.  When the queue is full the oldest event is dropped and counted in
    :attr:`lost`.
    """

    def __init__(self, throttle_s: float = 10.0, max_events: int = 200) -> None:
        """Keep at most ``max_events`` events; throttle each key to one per ``throttle_s``."""
        self.throttle_s = throttle_s
        self.lost = 0
        self._events: Deque[Tuple[str, str]] = collections.deque(maxlen=max_events)
        self._throttle: Dict[str, Tuple[float, int]] = {}

    def add(self, level: str, message: str, now: Optional[float] = None,
            key: Optional[str] = None) -> None:
        """Record an event; with ``key`` and ``now`` (seconds) it may be throttled."""
        if key is not None and now is not None:
            last = self._throttle.get(key)
            if last is not None and now - last[0] < self.throttle_s:
                self._throttle[key] = (last[0], last[1] + 1)
                return
            if last is not None and last[1]:
                message += ' ({} similar in the last {:.0f} s)'.format(
                    last[1], now - last[0])
            self._throttle[key] = (now, 0)
        if len(self._events) == self._events.maxlen:
            self.lost += 1
        self._events.append((level, message))

    def drain(self) -> List[Tuple[str, str]]:
        """Return and forget the ``(level, message)`` events recorded since the last call."""
        events = list(self._events)
        self._events.clear()
        return events
