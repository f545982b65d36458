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
  passed since that input came back.  With a ``read_cpu`` reader, a silent
  node whose process waited for a CPU rather than ran or slept is
  **starved**, not hung: WARN, ended only after a longer silence
  (:mod:`~face_tracker_ros.monitor.starvation`).
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

import os
import time
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from face_tracker_ros.common.status import ERROR, OK, WARN
from face_tracker_ros.monitor.enforcer import (  # noqa: F401 - HOUR_S: old imports
    always,
    check_budget,
    check_setting,
    Enforcer,
    HOUR_S,
    is_alive,
    NodeRecord,
    start_time,
)
from face_tracker_ros.monitor.starvation import CpuJudge
from face_tracker_ros.monitor.watchspec import (  # noqa: F401 - the vocabulary, re-exported
    Action,
    check_specs,
    DEFAULT_OUTPUTS,
    default_specs,
    DEFAULT_UPSTREAMS,
    Event,
    STATES,
    WatchSpec,
)


class Watchdog(CpuJudge, Enforcer):
    """Decides when a tracker node is hung or bloated and ends it; see the module docstring."""

    def __init__(self, nodes: Iterable, stale_timeout_s: float = 10.0,
                 startup_grace_s: float = 30.0, kill_grace_s: float = 3.0,
                 max_restarts_per_hour: int = 5, rss_limit_mb: float = 600.0,
                 enabled: bool = True, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 kill: Callable[[int, int], None] = os.kill,
                 is_alive: Callable[[int], bool] = is_alive,
                 identify: Callable[[int], Optional[float]] = start_time,
                 owned: Optional[Callable[[int], bool]] = None,
                 stall_gap_s: Optional[float] = None, read_cpu=None):
        """Watch ``nodes`` (WatchSpec objects or plain names, which get :func:`default_specs`).

        Raises ValueError naming the parameter for a value out of range.
        """
        self.stale_timeout_s = check_setting('stale_timeout_s', stale_timeout_s, False)
        self.startup_grace_s = check_setting('startup_grace_s', startup_grace_s, True)
        self.kill_grace_s = check_setting('kill_grace_s', kill_grace_s, False)
        self.rss_limit_mb = check_setting('rss_limit_mb', rss_limit_mb, False)
        self.stall_gap_s = None if stall_gap_s is None else check_setting(
            'stall_gap_s', stall_gap_s, False)
        self.max_restarts_per_hour = check_budget(max_restarts_per_hour)
        if not isinstance(enabled, bool):
            raise ValueError(f'enabled must be true or false, got {enabled!r}')
        self.enabled = enabled
        for name, fn in (('clock', clock), ('wall_clock', wall_clock), ('kill', kill),
                         ('is_alive', is_alive), ('identify', identify),
                         ('owned', owned if owned is not None else always)):
            if not callable(fn):
                raise ValueError(f'{name} must be a callable, got {fn!r}')
        self._owned = owned if owned is not None else always
        self._init_cpu(read_cpu)
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
        specs = check_specs(nodes)
        created = clock()
        self._nodes: Dict[str, NodeRecord] = {s.name: NodeRecord(s, created) for s in specs}
        #: Sentences for the log, oldest first; see :meth:`drain_events`.
        self.events: List[Event] = []

    @classmethod
    def from_config(cls, nodes: Iterable, config, **kwargs) -> 'Watchdog':
        """Return a watchdog of ``nodes`` with the settings of a ``WatchdogConfig``.

        ``kwargs`` are the injected clocks, probes, ``owned``, ``stall_gap_s``, ``read_cpu``.
        """
        return cls(nodes, stale_timeout_s=config.stale_timeout_s,
                   startup_grace_s=config.startup_grace_s, kill_grace_s=config.kill_grace_s,
                   max_restarts_per_hour=config.max_restarts_per_hour,
                   rss_limit_mb=config.rss_limit_mb, enabled=config.enabled, **kwargs)

    # ----------------------------------------------------------------- inputs
    @property
    def nodes(self) -> List[str]:
        """Return the watched node names in the order given."""
        return list(self._nodes)

    def spec(self, node: str) -> Optional[WatchSpec]:
        """Return the spec of a watched node, None for an unknown name."""
        entry = self._nodes.get(node) if isinstance(node, str) else None
        return entry.spec if entry is not None else None

    def heartbeat(self, node: str, t: Optional[float] = None) -> bool:
        """Note that a status of ``node`` arrived at ``t`` (default: now).

        Returns False (and changes nothing) for an unknown node or a bad time.
        """
        entry, stamp = self._entry_at(node, t)
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
        entry, stamp = self._entry_at(node, t)
        if entry is None or stamp is None:
            return False
        previous = entry.output_t
        if previous is None or stamp - previous > self.stale_timeout_s:
            entry.output_resumed_t = stamp
        if previous is None or stamp > previous:
            entry.output_t = stamp
        entry.note_healthy()
        return True

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
            self._note_cpu(entry, stamp)
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

    def _problem(self, entry: NodeRecord, now: float) -> Optional[Tuple[str, str, float]]:
        """Return (state, reason, watched silence) when the node is bloated or hung, else None."""
        if entry.rss_mb is not None and entry.rss_mb > self.rss_limit_mb:
            return 'bloated', (f'rss {entry.rss_mb:.0f} MB > limit '
                               f'{self.rss_limit_mb:g} MB'), 0.0
        since = entry.since if entry.since is not None else now
        if not entry.healthy_once and now - since < self.startup_grace_s:
            return None
        reasons = []
        watched_since = self._since_resumed(since)
        silence = now - self._since_resumed(
            entry.heartbeat_t if entry.heartbeat_t is not None else since)
        if silence <= self.stale_timeout_s:
            silence = 0.0
        elif entry.heartbeat_t is None:
            reasons.append(f'no status in the {now - since:.1f} s since it started')
        else:
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
                silence = max(silence, age)
                if entry.output_t is None:
                    reasons.append(f'no output on {topic} in the {now - since:.1f} s since it '
                                   'started')
                else:
                    reasons.append(f'no output on {topic} for {now - entry.output_t:.1f} s')
        if reasons:
            return 'hung', ', '.join(reasons), silence
        return None

    def _input_flows(self, entry: NodeRecord, now: float) -> bool:
        if not entry.spec.upstream:
            return True
        upstream = self._nodes[entry.spec.upstream]
        return upstream.output_t is not None and now - upstream.output_t <= self.stale_timeout_s

    def _judge(self, entry: NodeRecord, now: float, actions: List[Action]) -> None:
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
                if entry.flag is not None and not self._still_starved(entry, now):
                    entry.flag = None
                    self.events.append(Event(f'watchdog: {name} healthy again (pid {pid})', OK))
            else:
                self._set(entry, 'starting', OK,
                          f'starting (pid {pid}, {now - since:.1f} s of '
                          f'{self.startup_grace_s:g} s grace)')
            return
        state, reason, silence = problem
        if state == 'hung':
            reason = self._review(entry, reason, silence, now)
            if reason is None:
                return  # starved of CPU, not hung: given more time
        self._act(entry, (state, reason), now, actions)

    def _alive_text(self, entry: NodeRecord, now: float) -> str:
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
            'starved_timeout_s': self.starved_timeout_s,
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
