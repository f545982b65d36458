# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""When the flight recorder writes a bag, and which seconds go in it (ROS-free, clock injected).

Events:

* a ``/diagnostics`` status whose level becomes ERROR (the transition, not
  every ERROR message; the recorder's own statuses are ignored);
* a node restart: the ``pid`` a status carries (its first ``pid`` value: the
  publishing process) changes;
* a request (the node's ``~/trigger`` service), which ignores the cool-down.

An event starts a :class:`Capture` of ``[event - pre_event_s, event +
post_event_s]``; events while it is pending join it (one bag); error and
restart events within ``cooldown_s`` of the last captured event are counted
but start nothing, so an error storm gives one bag.
"""

from dataclasses import dataclass, field
from pathlib import Path
import threading
from typing import Callable, Dict, List, Optional, Tuple

from face_tracker_ros.common.status import decode_level, ERROR
from face_tracker_ros.interface import RECORDER_TRIGGER_SERVICE
from face_tracker_ros.recorder.params import TriggerConfig

#: Details kept per capture (the bag's ``face_tracker_ros.events``); more events still join.
MAX_DETAILS = 50


class StatusWatch:
    """Turns ``/diagnostics`` statuses into events: ERROR transitions and pid changes."""

    def __init__(self, ignore_prefix: str = ''):
        """Ignore statuses whose name starts with ``ignore_prefix`` (the node's own)."""
        self.ignore_prefix = ignore_prefix
        self._levels: Dict[str, int] = {}
        self._pids: Dict[str, str] = {}

    def feed(self, name: str, level, values) -> List[Tuple[str, str]]:
        """Return the events of one status: ``[('error' | 'restart', detail), ...]``.

        ``level`` is a ``DiagnosticStatus.level`` (byte or int), ``values`` its
        key/value pairs (``KeyValue`` messages or ``(key, value)`` tuples).
        Never raises on malformed input.
        """
        if not isinstance(name, str) or (self.ignore_prefix and
                                         name.startswith(self.ignore_prefix)):
            return []
        events = []
        try:
            level = decode_level(level)
        except (TypeError, ValueError):
            return []
        previous = self._levels.get(name)
        self._levels[name] = level
        if level == ERROR and previous != ERROR:
            events.append(('error', name))
        pid = ''
        try:
            for item in values or ():
                key, value = (item.key, item.value) if hasattr(item, 'key') else tuple(item)[:2]
                if key == 'pid':
                    pid = str(value)
                    break
        except (TypeError, ValueError):
            pid = ''
        if pid.isdigit():
            old = self._pids.get(name)
            self._pids[name] = pid
            if old is not None and old != pid:
                events.append(('restart', f'{name}: pid {old} -> {pid}'))
        return events


@dataclass
class Capture:
    """An event being captured: the bag is written once ``end_ns`` is reached."""

    reason: str
    event_ns: int
    start_ns: int
    end_ns: int
    path: Path
    details: List[str] = field(default_factory=list)


class TriggerPolicy:
    """Decides when a capture starts, what joins it and when it is due; thread-safe.

    ``clock_ns()`` is the node clock (receive time of the buffered messages),
    ``new_bag(reason)`` names (and reserves) the bag of a new capture and
    ``warn(line)`` logs that a capture started.
    """

    def __init__(self, config: TriggerConfig, clock_ns: Callable[[], int],
                 new_bag: Callable[[str], Path], warn: Callable[[str], None],
                 ignore_prefix: str = ''):
        """Start with no capture; ignore statuses named with ``ignore_prefix`` (our own)."""
        self.config = config
        self.clock_ns = clock_ns
        self.new_bag = new_bag
        self.warn = warn
        self.watch = StatusWatch(ignore_prefix=ignore_prefix)
        self._lock = threading.Lock()
        self._capture: Optional[Capture] = None
        self._last_event_ns: Optional[int] = None
        self.triggers = 0
        self.triggers_suppressed = 0

    def on_status(self, name: str, level, message: str, values) -> List[Tuple[bool, str]]:
        """Feed one ``/diagnostics`` status; return the outcome of each event it raised."""
        out = []
        for kind, detail in self.watch.feed(name, level, values):
            if kind == 'error' and self.config.on_error:
                out.append(self.trigger('error', f'{detail} is ERROR: {message}'))
            elif kind == 'restart' and self.config.on_restart:
                out.append(self.trigger('restart', f'restart seen ({detail})'))
        return out

    def request(self) -> Tuple[bool, str]:
        """Start (or join) a requested capture (``~/trigger``): the cool-down does not apply."""
        return self.trigger('request', f'requested through {RECORDER_TRIGGER_SERVICE}',
                            force=True)

    def trigger(self, reason: str, detail: str, force: bool = False) -> Tuple[bool, str]:
        """Start (or join) a capture; return (accepted, what happens) for logs and replies.

        ``force`` ignores the cool-down (requests through the service).
        """
        now = self.clock_ns()
        c = self.config
        with self._lock:
            self.triggers += 1
            capture = self._capture
            if capture is not None:
                if len(capture.details) < MAX_DETAILS:
                    capture.details.append(detail)
                return True, f'joined the capture in progress; bag {capture.path}'
            cooldown_ns = int(c.cooldown_s * 1e9)
            if not force and self._last_event_ns is not None and \
                    0 <= now - self._last_event_ns < cooldown_ns:
                self.triggers_suppressed += 1
                return False, f'within the {c.cooldown_s:g} s cool-down: no new bag'
            path = self.new_bag(reason)
            self._capture = Capture(reason=reason, event_ns=now,
                                    start_ns=now - int(c.pre_event_s * 1e9),
                                    end_ns=now + int(c.post_event_s * 1e9), path=path,
                                    details=[detail])
            self._last_event_ns = now
        self.warn(f'flight recorder: {detail}; recording {c.post_event_s:g} s more, then '
                  f'writing {path}')
        return True, f'bag {path} in {c.post_event_s:g} s'

    def due(self) -> Optional[Capture]:
        """Return (and forget) the pending capture once its post-event time has passed."""
        now = self.clock_ns()
        with self._lock:
            capture = self._capture
            if capture is None or now < capture.end_ns:
                return None
            self._capture = None
        return capture

    def flush(self) -> Optional[Capture]:
        """Return (and forget) the pending capture, ended now (at shutdown), or None."""
        with self._lock:
            capture, self._capture = self._capture, None
        if capture is not None:
            capture.end_ns = self.clock_ns()
        return capture

    def pending(self) -> Tuple[Optional[Capture], float]:
        """Return the pending capture (or None) and the seconds left until it is due."""
        with self._lock:
            capture = self._capture
        if capture is None:
            return None, 0.0
        return capture, max(0.0, (capture.end_ns - self.clock_ns()) / 1e9)
