# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The restart watchdog: ends a tracker node that hangs or bloats so its bring-up restarts it.

``ros2 launch`` (``respawn=True``) and the standalone runner restart a node
process that *exits*; neither notices one that is alive but stuck, or one
whose memory has grown past any reason.  This core decides, per watched node:

* **hung**: the process is alive and its status heartbeat, or its output
  topic, has been silent for more than ``stale_timeout_s``.  A node is only
  judged once it has been seen healthy (a heartbeat and, if watched, an
  output since its pid appeared) or ``startup_grace_s`` after its pid
  appeared, whichever comes first.  The clocks restart when the pid changes,
  so a respawned node gets its grace again.  A node with an ``upstream``
  (the detector, fed by the camera) is not blamed for a silent output while
  its upstream's output is silent too, nor before ``stale_timeout_s`` has
  passed since that input came back.
* **bloated**: the process's RSS is above ``rss_limit_mb``.
* **zombie**: reported only.  A zombie has already exited; no signal can end
  it, its parent (``ros2 launch`` or the standalone runner) must reap it.

Time the watchdog itself was not running (its process stopped with SIGSTOP,
or starved of CPU) is unknown, not silence: a gap between two checks longer
than ``stall_gap_s`` (None: not checked) restarts every node's staleness
clock at the end of the gap, so a node is judged hung only after
``stale_timeout_s`` of silence that the watchdog actually watched.

Only processes for which ``owned(pid)`` is true are ever signalled (the
diagnostics node passes :meth:`face_tracker_ros.monitor.resources.RunScope.owns`:
a process of its own launch or standalone run, in its namespace).

A hung or bloated node is ended: SIGTERM now, SIGKILL ``kill_grace_s`` later
if it is still alive (a process stopped with SIGSTOP, or one ignoring
SIGTERM, needs the SIGKILL).  Nothing blocks: :meth:`Watchdog.check` advances
that small state machine each time it runs.  Before every signal the process
is checked to still be the watched one (same start time), so a recycled pid
is never signalled.  At most ``max_restarts_per_hour`` terminations per node
happen in any sliding hour; beyond that the node is left alone and reported
as ERROR ``budget_exhausted``.  With ``enabled=False`` it only reports what
it would do.

Who restarts the ended node: under ``ros2 launch`` the node's ``respawn=True``;
under ``face_tracker_standalone`` the runner's own respawn (it restarts every
node that exits, whatever the status, except 2 = invalid parameter).

The core is ROS-free and driven by its caller (the diagnostics node)::

    dog = Watchdog(default_specs(['camera', 'detector', 'servo']))
    dog.heartbeat('detector')            # a status of the detector arrived
    dog.output('detector')               # the detector published on face/target
    dog.process('detector', pid, rss_mb=sample.rss_mb, zombie=sample.zombie)
    for action in dog.check():           # at least once a second
        ...
    for event in dog.drain_events():     # human sentences for the log
        logger.warning(event) if event.level else logger.info(event)
    level, message, figures = dog.report('detector')

All times are seconds of the injected ``clock`` (``time.monotonic`` by
default); ``wall_clock`` (``time.time``) only dates the actions for people.
"""

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
import math
import os
import re
import signal
import time
from typing import Callable, Deque, Dict, Iterable, List, Optional, Tuple

import psutil

OK, WARN, ERROR = 0, 1, 2

#: The states a watched node can be in, as shown in the ``state`` figure.
STATES = ('ok', 'starting', 'hung', 'bloated', 'zombie', 'terminating', 'budget_exhausted',
          'not_running')

#: The topic whose messages prove each tracker node is working.
DEFAULT_OUTPUTS = {
    'camera': 'camera/camera_info',
    'detector': 'face/target',
    'servo': 'joint_states',
    'sim_servo': 'sim/joint_states',
}

#: The node whose output feeds each node (a silent input excuses a silent output).
DEFAULT_UPSTREAMS = {'detector': 'camera'}

HOUR_S = 3600.0

_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
_PSUTIL_ERRORS = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)
#: Two readings of one process's start time agree within this (they are computed, not stored).
_SAME_START_S = 0.05


def _is_alive(pid: int) -> bool:
    """Return True if ``pid`` exists and is not a zombie (the default ``is_alive``)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except _PSUTIL_ERRORS:
        return False
    except (OSError, ValueError):
        return False


def _start_time(pid: int) -> Optional[float]:
    """Return the start time of ``pid`` (the default ``identify``), None if unreadable."""
    try:
        return psutil.Process(pid).create_time()
    except _PSUTIL_ERRORS:
        return None
    except (OSError, ValueError):
        return None


def _always(_pid: int) -> bool:
    return True


def _finite(value) -> Optional[float]:
    """Return ``value`` as a finite float, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _pid(value) -> Optional[int]:
    """Return ``value`` as a pid (a positive int), or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if number != value and not isinstance(value, str):
        return None  # 12.5 is not a pid
    return number if number > 0 else None


def _flag(value) -> bool:
    """Return the truth of ``value``; False when it has none (e.g. an array)."""
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 - bad input is False, never an error
        return False


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, timezone.utc).astimezone().isoformat(
        timespec='seconds')


@dataclass(frozen=True)
class WatchSpec:
    """One watched node: its name, the topic that proves it works, what feeds it.

    ``output_topic`` empty means liveness is judged from heartbeats alone;
    ``upstream`` names another watched node whose output is this node's input.
    """

    name: str
    output_topic: str = ''
    upstream: str = ''


def default_specs(nodes: Iterable[str]) -> List[WatchSpec]:
    """Return the recommended specs for these tracker node names.

    camera -> ``camera/camera_info``; detector -> ``face/target`` (upstream
    camera, when the camera is watched); servo -> ``joint_states``; sim_servo
    -> ``sim/joint_states``; any other node is watched by heartbeat only.
    """
    names = list(nodes)
    specs = []
    for name in names:
        upstream = DEFAULT_UPSTREAMS.get(name, '')
        specs.append(WatchSpec(name, DEFAULT_OUTPUTS.get(name, ''),
                               upstream if upstream in names else ''))
    return specs


@dataclass(frozen=True)
class Action:
    """A signal the watchdog sent (``performed``) or, in report-only mode, would have sent.

    ``what`` is ``'SIGTERM'`` or ``'SIGKILL'``; ``why`` the reason in words;
    ``t`` the watchdog clock and ``wall_time`` the epoch time of the decision.
    """

    node: str
    what: str
    pid: int
    why: str
    t: float
    wall_time: float
    performed: bool

    @property
    def when(self) -> str:
        """Return the decision's local time in ISO 8601 (seconds, with the UTC offset)."""
        return _iso(self.wall_time)


class Event(str):
    """A sentence for the log; ``level`` is OK (info), WARN or ERROR."""

    level: int

    def __new__(cls, text: str, level: int = WARN):
        """Create the sentence ``text`` logged at ``level``."""
        event = super().__new__(cls, text)
        event.level = level
        return event


@dataclass
class _Termination:
    pid: int
    start_time: Optional[float]
    why: str
    sigterm_t: float
    sigkill_t: Optional[float] = None
    survivor_reported: bool = False


class _Node:
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
        self.since = now
        self.heartbeat_t = None
        self.output_t = None
        self.output_resumed_t = None
        self.healthy_once = False

    def note_healthy(self) -> None:
        if self.heartbeat_t is not None and (not self.spec.output_topic
                                             or self.output_t is not None):
            self.healthy_once = True


class Watchdog:
    """Decides when a tracker node is hung or bloated and ends it; see the module docstring."""

    def __init__(self, nodes: Iterable, stale_timeout_s: float = 10.0,
                 startup_grace_s: float = 30.0, kill_grace_s: float = 3.0,
                 max_restarts_per_hour: int = 5, rss_limit_mb: float = 600.0,
                 enabled: bool = True, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 kill: Callable[[int, int], None] = os.kill,
                 is_alive: Callable[[int], bool] = _is_alive,
                 identify: Callable[[int], Optional[float]] = _start_time,
                 owned: Optional[Callable[[int], bool]] = None,
                 stall_gap_s: Optional[float] = None):
        """Watch ``nodes`` (WatchSpec objects or plain names, which get :func:`default_specs`).

        Raises ValueError naming the parameter for a value out of range.
        """
        self.stale_timeout_s = self._number('stale_timeout_s', stale_timeout_s, 0.0, False)
        self.startup_grace_s = self._number('startup_grace_s', startup_grace_s, 0.0, True)
        self.kill_grace_s = self._number('kill_grace_s', kill_grace_s, 0.0, False)
        self.rss_limit_mb = self._number('rss_limit_mb', rss_limit_mb, 0.0, False)
        self.stall_gap_s = None if stall_gap_s is None else self._number(
            'stall_gap_s', stall_gap_s, 0.0, False)
        if isinstance(max_restarts_per_hour, bool) or not isinstance(max_restarts_per_hour, int) \
                or max_restarts_per_hour < 0:
            raise ValueError('max_restarts_per_hour must be an integer >= 0 (0: never end a '
                             f'node), got {max_restarts_per_hour!r}')
        self.max_restarts_per_hour = max_restarts_per_hour
        if not isinstance(enabled, bool):
            raise ValueError(f'enabled must be true or false, got {enabled!r}')
        self.enabled = enabled
        for name, fn in (('clock', clock), ('wall_clock', wall_clock), ('kill', kill),
                         ('is_alive', is_alive), ('identify', identify),
                         ('owned', owned if owned is not None else _always)):
            if not callable(fn):
                raise ValueError(f'{name} must be a callable, got {fn!r}')
        self._owned = owned if owned is not None else _always
        #: End of the last gap in which the watchdog itself did not run (None: none yet).
        self.resumed_t: Optional[float] = None
        self.stalls_total = 0
        self.last_stall_s = 0.0
        self._last_check: Optional[float] = None
        self._clock = clock
        self._wall = wall_clock
        self._kill = kill
        self._is_alive = is_alive
        self._identify = identify
        specs = self._specs(nodes)
        created = clock()
        self._nodes: Dict[str, _Node] = {s.name: _Node(s, created) for s in specs}
        #: Sentences for the log, oldest first; see :meth:`drain_events`.
        self.events: List[Event] = []

    # ------------------------------------------------------------- validation
    @staticmethod
    def _number(name: str, value, low: float, inclusive: bool) -> float:
        number = _finite(value)
        if number is None or number < low or (number == low and not inclusive):
            sign = '>=' if inclusive else '>'
            raise ValueError(f'{name} must be a finite number {sign} {low:g} (seconds or MB), '
                             f'got {value!r}')
        return number

    @staticmethod
    def _specs(nodes) -> List[WatchSpec]:
        if isinstance(nodes, (str, bytes)) or nodes is None:
            raise ValueError('nodes must be a list of node names or WatchSpec, '
                             f'got {nodes!r}')
        try:
            items = list(nodes)
        except TypeError:
            raise ValueError('nodes must be a list of node names or WatchSpec, '
                             f'got {nodes!r}') from None
        names = [item for item in items if isinstance(item, str)]
        defaults = {s.name: s for s in default_specs(names)}
        specs = []
        for item in items:
            spec = defaults.get(item) if isinstance(item, str) else item
            if not isinstance(spec, WatchSpec) or not isinstance(spec.name, str) \
                    or not _NAME.fullmatch(spec.name):
                raise ValueError('nodes must hold ROS node names (a letter or _, then letters, '
                                 f'digits or _) or WatchSpec, got {item!r}')
            if not isinstance(spec.output_topic, str) or not isinstance(spec.upstream, str):
                raise ValueError(f'nodes: output_topic and upstream of {spec.name} must be '
                                 'strings')
            specs.append(spec)
        seen = [s.name for s in specs]
        for spec in specs:
            if seen.count(spec.name) > 1:
                raise ValueError(f'nodes must not repeat a node, {spec.name!r} appears twice')
            if spec.upstream and (spec.upstream == spec.name or spec.upstream not in seen):
                raise ValueError(f'nodes: upstream of {spec.name} must be another watched node '
                                 f'({", ".join(n for n in seen if n != spec.name) or "none"}), '
                                 f'got {spec.upstream!r}')
        return specs

    # ----------------------------------------------------------------- inputs
    @property
    def nodes(self) -> List[str]:
        """Return the watched node names in the order given."""
        return list(self._nodes)

    def spec(self, node: str) -> Optional[WatchSpec]:
        """Return the spec of a watched node, None for an unknown name."""
        entry = self._nodes.get(node) if isinstance(node, str) else None
        return entry.spec if entry is not None else None

    def _time(self, t) -> Optional[float]:
        if t is None:
            try:
                return _finite(self._clock())
            except Exception:  # noqa: BLE001 - a broken clock must not break the caller
                return None
        return _finite(t)

    def heartbeat(self, node: str, t: Optional[float] = None) -> bool:
        """Note that a status of ``node`` arrived at ``t`` (default: now).

        Returns False (and changes nothing) for an unknown node or a bad time.
        """
        entry = self._nodes.get(node) if isinstance(node, str) else None
        stamp = self._time(t)
        if entry is None or stamp is None:
            return False
        if entry.heartbeat_t is None or stamp > entry.heartbeat_t:
            entry.heartbeat_t = stamp
        entry.note_healthy()
        return True

    def output(self, node: str, t: Optional[float] = None) -> bool:
        """Note that a message on ``node``'s output topic arrived at ``t`` (default: now).

        Returns False (and changes nothing) for an unknown node or a bad time.
        """
        entry = self._nodes.get(node) if isinstance(node, str) else None
        stamp = self._time(t)
        if entry is None or stamp is None:
            return False
        previous = entry.output_t
        if previous is None or stamp - previous > self.stale_timeout_s:
            entry.output_resumed_t = stamp
        if previous is None or stamp > previous:
            entry.output_t = stamp
        entry.note_healthy()
        return True

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
        start = _finite(create_time)
        if start is None:
            try:
                start = _finite(self._identify(number))
            except Exception:  # noqa: BLE001 - a failing reader is "unknown", never an error
                start = None
        now = self._time(None)
        changed = entry.pid is not None and (
            number != entry.pid or (start is not None and entry.start_time is not None
                                    and abs(start - entry.start_time) > _SAME_START_S))
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
        entry.rss_mb = _finite(rss_mb)
        return True

    # --------------------------------------------------------------- decisions
    def check(self, now: Optional[float] = None) -> List[Action]:
        """Judge every node at ``now`` (default: the clock) and act; return the actions.

        Call it at least once a second: a frozen node then gets SIGTERM within
        ``stale_timeout_s`` + 1 s of its last sign of life and, if that does not
        end it, SIGKILL ``kill_grace_s`` (+ 1 s) later.
        """
        stamp = self._time(now)
        if stamp is None:
            return []
        self._note_gap(stamp)
        actions: List[Action] = []
        for entry in self._nodes.values():
            self._prune(entry, stamp)
            if entry.term is not None:
                self._advance(entry, stamp, actions)
                if entry.term is not None:
                    continue
            self._judge(entry, stamp, actions)
        return actions

    def _note_gap(self, now: float) -> None:
        """Notice time the watchdog was not running: its staleness clocks restart after it."""
        last, self._last_check = self._last_check, now
        if last is None or self.stall_gap_s is None or now - last <= self.stall_gap_s:
            return
        gap = now - last
        self.resumed_t = now
        self.stalls_total += 1
        self.last_stall_s = gap
        self.events.append(Event(
            f'watchdog: not run for {gap:.1f} s (its process stopped or starved of CPU); that '
            f'time is unknown, not silence: every node gets {self.stale_timeout_s:g} s from now '
            'before it can be judged hung', WARN))

    def _since_resumed(self, t: Optional[float]) -> Optional[float]:
        """Return ``t`` moved to the end of the watchdog's own last stall, if that is later."""
        if self.resumed_t is None:
            return t
        return self.resumed_t if t is None else max(t, self.resumed_t)

    def _prune(self, entry: _Node, now: float) -> None:
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
            current = _finite(self._identify(pid))
        except Exception:  # noqa: BLE001 - unknown identity: do not signal
            return False
        return current is not None and abs(current - start_time) <= _SAME_START_S

    def _signal(self, pid: int, sig: int) -> Optional[str]:
        """Send ``sig``; return None on success, else why it failed ('gone' if no process)."""
        try:
            self._kill(pid, sig)
        except ProcessLookupError:
            return 'gone'
        except Exception as exc:  # noqa: BLE001 - a refused signal is reported, not raised
            return f'{type(exc).__name__}: {exc}'
        return None

    def _record(self, entry: _Node, what: str, pid: int, why: str, now: float,
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

    def _emit(self, entry: _Node, key: Tuple[str, Optional[int]], text: str,
              level: int) -> None:
        """Log ``text`` once per (state, pid) episode of a node."""
        if entry.flag == key:
            return
        entry.flag = key
        self.events.append(Event(text, level))

    def _set(self, entry: _Node, state: str, level: int, detail: str) -> None:
        entry.state, entry.level, entry.detail = state, level, detail

    def _advance(self, entry: _Node, now: float, actions: List[Action]) -> None:
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

    def _problem(self, entry: _Node, now: float) -> Optional[Tuple[str, str]]:
        """Return (state, reason) when the node is bloated or hung, else None."""
        if entry.rss_mb is not None and entry.rss_mb > self.rss_limit_mb:
            return 'bloated', (f'rss {entry.rss_mb:.0f} MB > limit '
                               f'{self.rss_limit_mb:g} MB')
        since = entry.since if entry.since is not None else now
        if not entry.healthy_once and now - since < self.startup_grace_s:
            return None
        reasons = []
        watched_since = self._since_resumed(since)
        if entry.heartbeat_t is None:
            if now - watched_since > self.stale_timeout_s:
                reasons.append(f'no status in the {now - since:.1f} s since it started')
        elif now - self._since_resumed(entry.heartbeat_t) > self.stale_timeout_s:
            reasons.append(f'no status for {now - entry.heartbeat_t:.1f} s')
        topic = entry.spec.output_topic
        if topic and self._input_flows(entry, now):
            refs = [watched_since]
            if entry.output_t is not None:
                refs.append(entry.output_t)
            if entry.spec.upstream:
                upstream = self._nodes[entry.spec.upstream]
                if upstream.output_resumed_t is not None:
                    refs.append(upstream.output_resumed_t)
            age = now - max(refs)
            if age > self.stale_timeout_s:
                if entry.output_t is None:
                    reasons.append(f'no output on {topic} in the {now - since:.1f} s since it '
                                   'started')
                else:
                    reasons.append(f'no output on {topic} for {now - entry.output_t:.1f} s')
        if reasons:
            return 'hung', ', '.join(reasons)
        return None

    def _input_flows(self, entry: _Node, now: float) -> bool:
        if not entry.spec.upstream:
            return True
        upstream = self._nodes[entry.spec.upstream]
        return upstream.output_t is not None and now - upstream.output_t <= self.stale_timeout_s

    def _judge(self, entry: _Node, now: float, actions: List[Action]) -> None:
        name = entry.spec.name
        pid = entry.pid
        if pid is None or not entry.alive:
            if entry.ended_by_us is not None:
                self._set(entry, 'not_running', WARN,
                          f'pid {entry.ended_by_us} ended by the watchdog; waiting for the '
                          'bring-up to restart it')
            elif pid is None and now - entry.created < self.startup_grace_s:
                self._set(entry, 'not_running', OK, 'waiting for the process')
            else:
                self._set(entry, 'not_running', WARN, 'no process')
            return
        if entry.zombie:
            text = (f'pid {pid} is a zombie (it has exited); not signalled: a zombie cannot be '
                    'killed, its parent (ros2 launch or the standalone runner) must reap it')
            self._set(entry, 'zombie', ERROR, text)
            self._emit(entry, ('zombie', pid), f'watchdog: {name} {text}', ERROR)
            return
        problem = self._problem(entry, now)
        since = entry.since if entry.since is not None else now
        if problem is None:
            if entry.healthy_once or now - since >= self.startup_grace_s:
                self._set(entry, 'ok', OK, self._alive_text(entry, now))
                if entry.flag is not None:
                    entry.flag = None
                    self.events.append(Event(f'watchdog: {name} healthy again (pid {pid})', OK))
            else:
                self._set(entry, 'starting', OK,
                          f'starting (pid {pid}, {now - since:.1f} s of '
                          f'{self.startup_grace_s:g} s grace)')
            return
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

    def _alive_text(self, entry: _Node, now: float) -> str:
        parts = [f'pid {entry.pid} alive']
        if entry.heartbeat_t is not None:
            parts.append(f'status {now - entry.heartbeat_t:.1f} s ago')
        topic = entry.spec.output_topic
        if topic:
            silent = '' if self._input_flows(entry, now) else \
                f' (input from {entry.spec.upstream} silent)'
            if entry.output_t is not None:
                parts.append(f'{topic} {now - entry.output_t:.1f} s ago{silent}')
            else:
                parts.append(f'no {topic} yet{silent}')
        return ', '.join(parts)

    # ----------------------------------------------------------------- output
    def drain_events(self) -> List[Event]:
        """Return the log sentences collected so far and forget them."""
        events, self.events = self.events, []
        return events

    def state(self, node: str) -> str:
        """Return the state of ``node`` at the last check ('not_running' if unknown)."""
        entry = self._nodes.get(node) if isinstance(node, str) else None
        return entry.state if entry is not None else 'not_running'

    def restarts_last_hour(self, node: str, now: Optional[float] = None) -> int:
        """Return how many terminations of ``node`` happened in the hour before ``now``."""
        entry = self._nodes.get(node) if isinstance(node, str) else None
        stamp = self._time(now)
        if entry is None or stamp is None:
            return 0
        return sum(1 for t in entry.terminations if t > stamp - HOUR_S)

    def report(self, node: str, now: Optional[float] = None) -> Tuple[int, str, Dict[str, object]]:
        """Return (level 0..2, message, figures) of ``node``'s watchdog status.

        The level and message are those of the last :meth:`check`; the ages
        are at ``now`` (default: the clock).  Raises ValueError for a node
        that is not watched.
        """
        entry = self._nodes.get(node) if isinstance(node, str) else None
        if entry is None:
            raise ValueError(f'node must be one of the watched nodes ({", ".join(self._nodes)}), '
                             f'got {node!r}')
        stamp = self._time(now)
        if stamp is None:
            stamp = entry.created

        def age(t: Optional[float]):
            return round(stamp - t, 3) if t is not None else 'never'

        last = entry.last_action
        figures: Dict[str, object] = {
            'state': entry.state,
            'enabled': self.enabled,
            'pid': entry.pid if entry.pid is not None and entry.alive else '',
            'heartbeat_age_s': age(entry.heartbeat_t),
            'output_topic': entry.spec.output_topic or 'none (heartbeat only)',
            'output_age_s': age(entry.output_t) if entry.spec.output_topic else 'not watched',
            'rss_mb': entry.rss_mb if entry.rss_mb is not None else 'unknown',
            'rss_limit_mb': self.rss_limit_mb,
            'stale_timeout_s': self.stale_timeout_s,
            'actions_total': entry.actions_total,
            'restarts_last_hour': self.restarts_last_hour(node, stamp),
            'max_restarts_per_hour': self.max_restarts_per_hour,
            'last_action': '' if last is None else (
                f'{last.what} to pid {last.pid}' if last.performed
                else f'would send {last.what} to pid {last.pid} (report only)'
                if not self.enabled else f'{last.what} to pid {last.pid} (not delivered)'),
            'last_action_why': '' if last is None else last.why,
            'last_action_when': '' if last is None else last.when,
            'watchdog_stalls_total': self.stalls_total,
            'watchdog_last_stall_s': round(self.last_stall_s, 3),
        }
        message = entry.detail or entry.state
        level = entry.level
        if self.resumed_t is not None and stamp - self.resumed_t < self.stale_timeout_s \
                and level == OK:
            # Said for one stale_timeout_s: the watchdog itself was stopped or starved.
            level = WARN
            message = (f'{message}; the watchdog did not run for {self.last_stall_s:.1f} s '
                       f'until {stamp - self.resumed_t:.1f} s ago: that time is not judged')
        if not self.enabled and level == OK:
            message = f'{message} (report only)'
        return level, message, figures
