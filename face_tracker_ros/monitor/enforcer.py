# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The watchdog's process bookkeeping: which process is a node's, ending it, the budget.

:class:`Enforcer` is the base of :class:`~face_tracker_ros.monitor.watchdog.Watchdog`
(which holds the judgement: hung, bloated, its own stalls, the reports).  It
records each node's process readings (a new pid or start time is a new
process, which restarts the node's clocks), and ends a node: SIGTERM, then
SIGKILL ``kill_grace_s`` later, each only to the same process (start time)
of this run (``owned``), at most ``max_restarts_per_hour`` per node in any
sliding hour.  :func:`check_setting` and :func:`check_budget` check the
Watchdog's settings.  ROS-free; every process probe and the signal are injected.
"""

from collections import deque
from dataclasses import dataclass
import signal
import time
from typing import Deque, Dict, List, Optional, Tuple

import psutil

from face_tracker_ros.common.checks import as_float
from face_tracker_ros.common.status import ERROR, OK, WARN
from face_tracker_ros.monitor.watchspec import Action, Event, WatchSpec

#: The sliding window of the restart budget (seconds).
HOUR_S = 3600.0

PSUTIL_ERRORS = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)
#: Two readings of one process's start time agree within this (they are computed, not stored).
SAME_START_S = 0.05


def is_alive(pid: int) -> bool:
    """Return True if ``pid`` exists and is not a zombie (the default ``is_alive``)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except PSUTIL_ERRORS:
        return False
    except (OSError, ValueError):
        return False


def start_time(pid: int) -> Optional[float]:
    """Return the start time of ``pid`` (the default ``identify``), None if unreadable."""
    try:
        return psutil.Process(pid).create_time()
    except PSUTIL_ERRORS:
        return None
    except (OSError, ValueError):
        return None


def check_setting(name: str, value, inclusive: bool) -> float:
    """Return a watchdog setting (seconds or MB) > 0 (>= 0 if ``inclusive``); else ValueError."""
    number = as_float(value)
    if number is None or number < 0.0 or (number == 0.0 and not inclusive):
        sign = '>=' if inclusive else '>'
        raise ValueError(f'{name} must be a finite number {sign} 0 (seconds or MB), '
                         f'got {value!r}')
    return number


def check_budget(value) -> int:
    """Return ``max_restarts_per_hour`` if it is an integer >= 0; else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError('max_restarts_per_hour must be an integer >= 0 (0: never end a '
                         f'node), got {value!r}')
    return value


def always(_pid: int) -> bool:
    """Return True: every process is owned (the default ``owned``)."""
    return True


def _pid(value) -> Optional[int]:
    """Return ``value`` as a pid (a positive whole number: 12, 12.0, '12'), or None.

    None, bools, 12.5, NaN and what ``as_float`` does not take are not pids.
    """
    number = as_float(value)
    if number is None or not number.is_integer() or number <= 0:
        return None  # 12.5 is not a pid
    return int(number)


def _flag(value) -> bool:
    """Return the truth of ``value``; False when it has none (e.g. an array)."""
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 - bad input is False, never an error
        return False


@dataclass
class _Termination:
    pid: int
    start_time: Optional[float]
    why: str
    sigterm_t: float
    sigkill_t: Optional[float] = None
    survivor_reported: bool = False


class NodeRecord:
    """What the watchdog knows about one node (internal)."""

    def __init__(self, spec: WatchSpec, created: float):
        self.spec = spec
        self.created = created
        self.pid: Optional[int] = None
        self.start_time: Optional[float] = None
        self.alive = False
        self.zombie = False
        self.rss_mb: Optional[float] = None
        self.since: Optional[float] = None
        self.heartbeat_t: Optional[float] = None
        self.output_t: Optional[float] = None
        self.output_resumed_t: Optional[float] = None
        self.healthy_once = False
        self.state = 'not_running'
        self.detail = ''
        self.level = OK
        self.term: Optional[_Termination] = None
        self.terminations: Deque[float] = deque()
        self.actions_total = 0
        self.last_action: Optional[Action] = None
        self.flag: Optional[Tuple[str, Optional[int]]] = None
        self.ended_by_us: Optional[int] = None

    def reset_clocks(self, now: float) -> None:
        """Start the liveness clocks of a new process at ``now``."""
        self.since = now
        self.heartbeat_t = None
        self.output_t = None
        self.output_resumed_t = None
        self.healthy_once = False

    def note_healthy(self) -> None:
        """Mark the node seen healthy once it sent a status and (if watched) an output."""
        if self.heartbeat_t is not None and (not self.spec.output_topic
                                             or self.output_t is not None):
            self.healthy_once = True


class Enforcer:
    """Process readings and terminations of the watched nodes (the Watchdog's base class).

    The Watchdog sets the attributes used here: ``_nodes``, ``enabled``,
    ``kill_grace_s``, ``max_restarts_per_hour``, ``events`` and the injected
    ``_clock``, ``_wall``, ``_kill``, ``_is_alive``, ``_identify``, ``_owned``.
    """

    _nodes: Dict[str, NodeRecord]

    def _entry_at(self, node: str, t) -> Tuple[Optional[NodeRecord], Optional[float]]:
        """Return the record of ``node`` (None: not watched) and the time ``t`` (None: bad)."""
        entry = self._nodes.get(node) if isinstance(node, str) else None
        return entry, self._time(t)

    def _time(self, t) -> Optional[float]:
        if t is None:
            try:
                return as_float(self._clock())
            except Exception:  # noqa: BLE001 - a broken clock must not break the caller
                return None
        return as_float(t)

    def process(self, node: str, pid: Optional[int], rss_mb: Optional[float] = None,
                zombie: bool = False, alive: bool = True,
                create_time: Optional[float] = None) -> bool:
        """Record the latest reading of ``node``'s process.

        ``pid`` None (or ``alive`` False) means no process runs.  ``rss_mb``
        None or NaN is unknown (never bloated).  ``create_time`` (psutil's) is
        read through ``identify`` when not given; a different start time for
        the same pid is a new process.  A new process restarts the liveness
        clocks and gets ``startup_grace_s`` again.  Returns False for an
        unknown node (ignored) or an unusable pid (recorded as not running).
        """
        entry = self._nodes.get(node) if isinstance(node, str) else None
        if entry is None:
            return False
        number = _pid(pid)
        if number is None or not _flag(alive):
            entry.alive = False
            entry.zombie = False
            return number is not None or pid is None
        start = as_float(create_time)
        if start is None:
            try:
                start = as_float(self._identify(number))
            except Exception:  # noqa: BLE001 - a failing reader is "unknown", never an error
                start = None
        now = self._time(None)
        changed = entry.pid is not None and (
            number != entry.pid or (start is not None and entry.start_time is not None
                                    and abs(start - entry.start_time) > SAME_START_S))
        if not changed and number == entry.ended_by_us:
            entry.alive = False  # a late reading of the process this watchdog ended
            return True
        if entry.pid is None or changed:
            if changed or now is None:
                entry.reset_clocks(now if now is not None else 0.0)
            else:
                entry.since = now
            entry.pid = number
            entry.start_time = start
            entry.ended_by_us = None
        elif entry.start_time is None:
            entry.start_time = start
        entry.alive = True
        entry.zombie = _flag(zombie)
        entry.rss_mb = as_float(rss_mb)
        return True

    def restarts_last_hour(self, node: str, now: Optional[float] = None) -> int:
        """Return how many terminations of ``node`` happened in the hour before ``now``."""
        entry = self._nodes.get(node) if isinstance(node, str) else None
        stamp = self._time(now)
        if entry is None or stamp is None:
            return 0
        return sum(1 for t in entry.terminations if t > stamp - HOUR_S)

    def _prune(self, entry: NodeRecord, now: float) -> None:
        while entry.terminations and entry.terminations[0] <= now - HOUR_S:
            entry.terminations.popleft()

    def _alive(self, pid: int) -> bool:
        try:
            return bool(self._is_alive(pid))
        except Exception:  # noqa: BLE001 - unknown is treated as gone: never signal blindly
            return False

    def _owns(self, pid: int) -> bool:
        try:
            return bool(self._owned(pid))
        except Exception:  # noqa: BLE001 - unknown ownership: never signal
            return False

    def _same_process(self, pid: int, start_time: Optional[float]) -> bool:
        """Return True only if ``pid`` is provably still the process that was watched."""
        if start_time is None:
            return False
        try:
            current = as_float(self._identify(pid))
        except Exception:  # noqa: BLE001 - unknown identity: do not signal
            return False
        return current is not None and abs(current - start_time) <= SAME_START_S

    def _signal(self, pid: int, sig: int) -> Optional[str]:
        """Send ``sig``; return None on success, else why it failed ('gone' if no process)."""
        try:
            self._kill(pid, sig)
        except ProcessLookupError:
            return 'gone'
        except Exception as exc:  # noqa: BLE001 - a refused signal is reported, not raised
            return f'{type(exc).__name__}: {exc}'
        return None

    def _record(self, entry: NodeRecord, what: str, pid: int, why: str, now: float,
                performed: bool, actions: List[Action]) -> Action:
        try:
            wall = float(self._wall())
        except Exception:  # noqa: BLE001 - a broken wall clock only spoils the date
            wall = time.time()
        action = Action(entry.spec.name, what, pid, why, now, wall, performed)
        entry.actions_total += 1
        entry.last_action = action
        actions.append(action)
        return action

    def _emit(self, entry: NodeRecord, key: Tuple[str, Optional[int]], text: str,
              level: int) -> None:
        """Log ``text`` once per (state, pid) episode of a node."""
        if entry.flag == key:
            return
        entry.flag = key
        self.events.append(Event(text, level))

    def _set(self, entry: NodeRecord, state: str, level: int, detail: str) -> None:
        entry.state, entry.level, entry.detail = state, level, detail

    def _advance(self, entry: NodeRecord, now: float, actions: List[Action]) -> None:
        """Move a termination in progress on: done, SIGKILL due, or still waiting."""
        term = entry.term
        name = entry.spec.name
        exists = self._alive(term.pid)
        if not exists or not self._same_process(term.pid, term.start_time):
            last = 'SIGKILL' if term.sigkill_t is not None else 'SIGTERM'
            took = now - (term.sigkill_t if term.sigkill_t is not None else term.sigterm_t)
            entry.term = None
            entry.ended_by_us = term.pid
            if entry.pid == term.pid:
                entry.alive = False
            entry.flag = None
            recycled = ' (the pid now names another process: not signalled again)' \
                if exists else ''
            self.events.append(Event(
                f'watchdog: {name} pid {term.pid} ended {took:.1f} s after {last}{recycled}; '
                'the bring-up restarts it', WARN))
            return
        if term.sigkill_t is None:
            waited = now - term.sigterm_t
            if waited < self.kill_grace_s:
                self._set(entry, 'terminating', WARN,
                          f'{term.why}; SIGTERM to pid {term.pid} {waited:.1f} s ago, '
                          f'SIGKILL after {self.kill_grace_s:g} s')
                return
            why = f'still alive {waited:.1f} s after SIGTERM ({term.why})'
            # The process SIGTERMed (owned then, same start time now): no second ownership
            # check, which an exiting process (environment already gone) would fail.
            failure = self._signal(term.pid, signal.SIGKILL)
            self._record(entry, 'SIGKILL', term.pid, why, now, failure is None, actions)
            term.sigkill_t = now
            if failure is None or failure == 'gone':
                self.events.append(Event(
                    f'watchdog: {name} pid {term.pid} still alive {waited:.1f} s after SIGTERM; '
                    f'SIGKILL to pid {term.pid}', WARN))
                self._set(entry, 'terminating', WARN,
                          f'{term.why}; SIGKILL to pid {term.pid}')
            else:
                self.events.append(Event(
                    f'watchdog: {name} pid {term.pid} still alive {waited:.1f} s after SIGTERM; '
                    f'SIGKILL failed ({failure})', ERROR))
                self._set(entry, 'terminating', ERROR,
                          f'{term.why}; SIGKILL to pid {term.pid} failed ({failure})')
            return
        waited = now - term.sigkill_t
        if waited >= self.kill_grace_s:
            text = (f'{term.why}; pid {term.pid} survives SIGKILL for {waited:.1f} s '
                    '(uninterruptible sleep in the kernel, e.g. a hung device?)')
            self._set(entry, 'terminating', ERROR, text)
            if not term.survivor_reported:
                term.survivor_reported = True
                self.events.append(Event(f'watchdog: {name} {text}', ERROR))

    def _act(self, entry: NodeRecord, problem: Tuple[str, str], now: float,
             actions: List[Action]) -> None:
        """End a hung or bloated node's process, or say why not."""
        name = entry.spec.name
        pid = entry.pid
        state, reason = problem
        why = f'{state} ({reason})'
        if not self.enabled:
            text = f'{why}; report only: would send SIGTERM to pid {pid}'
            self._set(entry, state, ERROR, text)
            if entry.flag != (state, pid):
                self._record(entry, 'SIGTERM', pid, why, now, False, actions)
            self._emit(entry, (state, pid), f'watchdog (report only): {name} {text}', ERROR)
            return
        used = len(entry.terminations)
        if used >= self.max_restarts_per_hour:
            text = (f'{why}; restart budget exhausted ({used} terminations in the last hour, '
                    f'max {self.max_restarts_per_hour}): not ending pid {pid}, staying in ERROR')
            self._set(entry, 'budget_exhausted', ERROR, text)
            self._emit(entry, ('budget_exhausted', pid), f'watchdog: {name} {text}', ERROR)
            return
        if not self._alive(pid) or not self._same_process(pid, entry.start_time):
            entry.alive = False
            text = (f'pid {pid} is no longer the watched {name} process (gone or a different '
                    'start time); not signalled')
            self._set(entry, 'not_running', WARN, text)
            self._emit(entry, ('not_watched', pid), f'watchdog: {name} {text}', WARN)
            return
        if not self._owns(pid):
            text = (f'{why}; pid {pid} is not a process of this run (another tracker or '
                    'program): not signalled')
            self._set(entry, state, ERROR, text)
            self._emit(entry, ('not_ours', pid), f'watchdog: {name} {text}', ERROR)
            return
        failure = self._signal(pid, signal.SIGTERM)
        if failure == 'gone':
            entry.alive = False  # it exited on its own just now: nothing to end
            self._set(entry, 'not_running', WARN, f'pid {pid} exited')
            return
        if failure is not None:
            text = f'{why}; SIGTERM to pid {pid} failed ({failure})'
            self._set(entry, state, ERROR, text)
            self._emit(entry, ('signal_failed', pid), f'watchdog: {name} {text}', ERROR)
            return
        self._record(entry, 'SIGTERM', pid, why, now, True, actions)
        entry.terminations.append(now)
        entry.term = _Termination(pid, entry.start_time, why, now)
        entry.flag = ('terminating', pid)
        self._set(entry, 'terminating', WARN,
                  f'{why}; SIGTERM to pid {pid}, SIGKILL after {self.kill_grace_s:g} s')
        self.events.append(Event(f'watchdog: {name} {why}; SIGTERM to pid {pid}', WARN))
