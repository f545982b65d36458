# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Who watches the watchdog: another process of the run ends a hung diagnostics node.

The diagnostics node holds the watchdog that ends hung tracker nodes; launch's
respawn and the standalone runner restart it when it *exits*, but nothing
would end it when it hangs alive (stopped with SIGSTOP, deadlocked, stuck in
a system call).  A :class:`PeerWatch` in another node of the same run (the
flight recorder) watches it with the same rules as the watchdog itself, by
reusing :class:`~face_tracker_ros.monitor.watchdog.Watchdog` for the one node:

* its heartbeat is any status the diagnostics node publishes
  (``diagnostics: system``, ``diagnostics: log file`` ...) that carries the
  pid of a process of this run (:class:`~face_tracker_ros.monitor.resources.RunScope`:
  ``/diagnostics`` is global, another tracker's diagnostics node is not ours);
* its process is found by ``__node:=diagnostics`` among the processes of this
  run and namespace (:class:`~face_tracker_ros.monitor.resources.ProcessWatcher`);
* hung: statuses stale for ``stale_timeout_s`` while that process is alive and
  not a zombie, judged only after it was seen healthy or ``startup_grace_s``
  after it appeared (a respawned one gets the grace again);
* ended: SIGTERM, SIGKILL ``kill_grace_s`` later if still alive (a stopped
  process needs it), each checked to be the same process (start time) and of
  this run; at most ``max_restarts_per_hour``, then ERROR and nothing more;
* time the watching process itself did not run (a gap between two checks
  over ``stall_gap_s``) is unknown, not silence; a process starved of CPU
  is not hung (:mod:`~face_tracker_ros.monitor.starvation`, ``read_cpu``);
* every action and every change of state is one log sentence
  (:meth:`PeerWatch.check` returns them); :meth:`PeerWatch.report` is the
  status for ``/diagnostics``.

Memory is not judged here (the diagnostics node is judged hung or not); it is
thread-safe (statuses arrive on one thread, checks on another).
"""

import os
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

from face_tracker_ros.interface import DIAGNOSTICS_NODE
from face_tracker_ros.monitor.readings import read_cpu as proc_cpu
from face_tracker_ros.monitor.resources import ProcessWatcher, RunScope
from face_tracker_ros.monitor.watchdog import Action, Event, Watchdog, WatchSpec
from face_tracker_ros.monitor.watchspec import STALL_GAP_S, STARTING_MESSAGE

#: While no process of the node is known, all processes are searched at most this often
#: (about 20 ms each on a machine with 120 processes); a status naming its pid is followed
#: at once.
SCAN_PERIOD_S = 5.0

_WATCHDOG_PREFIX = 'watchdog: '
_MAX_FOREIGN = 64


class PeerWatch:
    """Ends the watched node (the diagnostics node) when it hangs; see the module docstring."""

    def __init__(self, node_name: str = DIAGNOSTICS_NODE, stale_timeout_s: float = 20.0,
                 startup_grace_s: float = 30.0, kill_grace_s: float = 3.0,
                 max_restarts_per_hour: int = 3, enabled: bool = True,
                 scope: Optional[RunScope] = None, stall_gap_s: float = STALL_GAP_S,
                 clock: Callable[[], float] = time.monotonic,
                 kill: Callable[[int, int], None] = os.kill,
                 watcher: Optional[ProcessWatcher] = None, read_cpu=proc_cpu):
        """Watch ``node_name`` among the processes of ``scope`` (default: this process's run).

        Raises ValueError naming the setting for a value out of range.
        """
        self.scope = scope if scope is not None else RunScope()
        self.node_name = node_name
        self.watcher = watcher if watcher is not None else ProcessWatcher(
            node_name, clock=clock, scope=self.scope)
        self.dog = Watchdog([WatchSpec(node_name)], stale_timeout_s=stale_timeout_s,
                            startup_grace_s=startup_grace_s, kill_grace_s=kill_grace_s,
                            max_restarts_per_hour=max_restarts_per_hour, enabled=enabled,
                            clock=clock, kill=kill, owned=self.scope.owns,
                            stall_gap_s=stall_gap_s, read_cpu=read_cpu)
        self._prefix = f'{node_name}: '
        self._lock = threading.Lock()
        self._clock = clock
        self._foreign: Dict[int, bool] = {}
        self._missing = False
        self._hinted = False
        self._scanned: Optional[float] = None
        self.heartbeats_total = 0
        self.foreign_statuses_total = 0

    @classmethod
    def from_config(cls, config, **kwargs) -> 'PeerWatch':
        """Return a peer watch with the settings of a ``PeerWatchConfig``.

        ``kwargs`` are the other arguments (``node_name``, ``scope``, the clock ...).
        """
        return cls(stale_timeout_s=config.stale_timeout_s,
                   startup_grace_s=config.startup_grace_s, kill_grace_s=config.kill_grace_s,
                   max_restarts_per_hour=config.max_restarts_per_hour, enabled=config.enabled,
                   **kwargs)

    @property
    def enabled(self) -> bool:
        """Return whether the peer watch acts (False: it only reports what it would do)."""
        return self.dog.enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        with self._lock:
            self.dog.enabled = bool(value)

    def status(self, name, message, values) -> bool:
        """Feed one ``/diagnostics`` status; return True if it was a heartbeat of the node.

        ``values`` are its key/value pairs (``KeyValue`` messages or tuples);
        its first ``pid`` is the publishing process.  A status of another
        node, of a process outside this run, or without a pid is ignored.
        Never raises on malformed input.
        """
        if not isinstance(name, str) or not name.startswith(self._prefix) \
                or message == STARTING_MESSAGE:
            return False
        pid = _first_pid(values)
        if pid is None:
            return False
        with self._lock:
            if pid != self.watcher.pid and not self._ours(pid):
                self.foreign_statuses_total += 1
                return False
            self.watcher.set_pid(pid)
            self._hinted = True
            self.dog.heartbeat(self.node_name)
            self.heartbeats_total += 1
        return True

    def _ours(self, pid: int) -> bool:
        known = self._foreign.get(pid)
        if known is not None:
            return known
        ours = self.scope.owns(pid)
        if len(self._foreign) >= _MAX_FOREIGN:
            self._foreign.clear()
        if not ours:
            self._foreign[pid] = False  # another tracker's: not read again
        return ours

    def check(self) -> Tuple[List[Action], List[Event]]:
        """Read the node's process, judge it and act; return (actions, log sentences).

        Call it about once a second.
        """
        with self._lock:
            now = self._clock()
            if self._missing and not self._hinted and self._scanned is not None \
                    and now - self._scanned < SCAN_PERIOD_S:
                sample = None  # still none: the next search is due later
            else:
                sample = self.watcher.sample()  # finds the process (by a status's pid first)
                self._missing = sample is None
                if self._missing:
                    self._scanned = now
            self._hinted = False
            if sample is None:
                self.dog.process(self.node_name, None)
            else:
                self.dog.process(self.node_name, sample.pid, zombie=sample.zombie)
            actions = self.dog.check()
            events = [_as_peer(event) for event in self.dog.drain_events()]
        return actions, events

    def report(self) -> Tuple[int, str, Dict[str, object]]:
        """Return (level 0..2, message, figures) of the watched node, for ``/diagnostics``."""
        with self._lock:
            level, message, figures = self.dog.report(self.node_name)
            figures = dict(figures)
            figures.pop('rss_mb', None)
            figures.pop('rss_limit_mb', None)
            figures['watched_node'] = self.node_name
            figures['scope'] = self.scope.describe()
            figures['heartbeats_total'] = self.heartbeats_total
            figures['foreign_statuses_total'] = self.foreign_statuses_total
        message = message.replace('the watchdog did not run', 'this peer watch did not run')
        return level, message, figures


def _first_pid(values) -> Optional[int]:
    try:
        for item in values or ():
            key, value = (item.key, item.value) if hasattr(item, 'key') else tuple(item)[:2]
            if key == 'pid':
                text = str(value)
                return int(text) if text.isdigit() and int(text) > 0 else None
    except (TypeError, ValueError):
        return None
    return None


def _as_peer(event: Event) -> Event:
    """Return a watchdog sentence as the peer watch's (``peer watch: diagnostics ...``)."""
    text = str(event)
    if text.startswith(_WATCHDOG_PREFIX):
        text = 'peer watch: ' + text[len(_WATCHDOG_PREFIX):]
    return Event(text, event.level)
