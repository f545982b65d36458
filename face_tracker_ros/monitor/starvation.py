# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Starved of CPU or hung: what a silent node's process did while it was silent.

On a machine loaded far beyond its cores a working node can wait seconds on a
run queue and miss its status.  When the watchdog would judge a node hung, it
looks at what the process did over the last ``stale_timeout_s`` (between two of
its CPU readings, :func:`~face_tracker_ros.monitor.readings.read_cpu`, taken at
every check once the node has been silent for :data:`READ_AFTER_SHARE` of
``stale_timeout_s``; a wait still in progress counts, see :class:`CpuHistory`):

* **busy**: it ran at least :data:`BUSY_CPU_SHARE` of that time on a CPU (a
  1 Hz status needs a few ms a second: this is many times that) and
  published nothing: a busy loop.  Hung, as before.
* **starved**: it ran less, and one of its threads waited on a run queue
  (``run_delay``; a CPU quota's throttled time counts) for at least
  :data:`STARVED_WAIT_SHARE` of that time.  Not hung: state ``starved``,
  WARN, one log line, and more time, until its silence reaches
  :data:`STARVED_TIMEOUT_FACTOR` x ``stale_timeout_s`` (a node that cannot
  get a CPU that long is not tracking); then it is hung anyway.
* **blocked**: it neither ran nor waited (asleep, blocked, deadlocked,
  stopped).  Hung, as before.

Without readings (not Linux, a kernel without ``schedstat``) every silent
node is judged hung as before, said once in the log.  The silence judged,
and the one capped, is the silence the watchdog watched: time it did not
run itself is unknown (see :mod:`~face_tracker_ros.monitor.watchdog`), so
its own stall postpones both judgements alike and never ends a starved node.
ROS-free; the reader is injected.
"""

from collections import deque
from dataclasses import dataclass
from typing import Callable, Deque, Dict, List, Optional, Tuple

from face_tracker_ros.common.status import WARN
from face_tracker_ros.monitor.readings import CpuReading
from face_tracker_ros.monitor.watchspec import Event

#: A silent process that ran at least this share of one core is busy (a busy loop), not starved.
BUSY_CPU_SHARE = 0.2
#: A silent process one of whose threads waited for a CPU this share of the time is starved.
STARVED_WAIT_SHARE = 0.5
#: A starved node is judged hung once its silence reaches this many ``stale_timeout_s``.
STARVED_TIMEOUT_FACTOR = 6.0
#: A baseline reading must be at least this share of ``stale_timeout_s`` old to judge.
MIN_WINDOW_SHARE = 0.5
#: A node's process is read only once its status or output is this share of
#: ``stale_timeout_s`` old (about 1 ms a reading for 20 threads: none while all is well).
READ_AFTER_SHARE = 0.25

BUSY, STARVED, BLOCKED = 'busy', 'starved', 'blocked'
_STATES = {'R': 'running', 'S': 'sleeping', 'D': 'disk sleep', 'T': 'stopped',
           't': 'stopped by a tracer', 'Z': 'zombie', 'I': 'idle'}


@dataclass(frozen=True)
class Verdict:
    """What a silent process did over ``window_s``: ``kind`` busy, starved or blocked."""

    kind: str
    window_s: float
    ran_s: float
    waited_s: float
    state: str

    def text(self) -> str:
        """Return the verdict in words, with its figures."""
        if self.kind == STARVED:
            return (f'waited {self.waited_s:.1f} s for a CPU in the last {self.window_s:.1f} s '
                    f'(ran {self.ran_s:.1f} s)')
        if self.kind == BUSY:
            return (f'ran {self.ran_s:.1f} s on a CPU in the last {self.window_s:.1f} s: busy, '
                    'not starved')
        state = _STATES.get(self.state, self.state)
        return (f'in the last {self.window_s:.1f} s it ran {self.ran_s:.1f} s and waited '
                f'{self.waited_s:.1f} s for a CPU: blocked, not starved (state {state})')


def classify(before: CpuReading, after: CpuReading, window_s: float) -> Verdict:
    """Return what the process did between two readings ``window_s`` apart.

    The wait is the longest of any one thread (a thread born since counts
    from zero); the CPU time is the whole process's.
    """
    ran = max(0.0, after.ran_s - before.ran_s)
    waited = max([after.waits_s[tid] - before.waits_s.get(tid, 0.0) for tid in after.waits_s]
                 or [0.0])
    waited = min(max(0.0, waited), window_s)
    if ran >= BUSY_CPU_SHARE * window_s:
        kind = BUSY
    elif waited >= STARVED_WAIT_SHARE * window_s:
        kind = STARVED
    else:
        kind = BLOCKED
    return Verdict(kind, window_s, ran, waited, after.state)


class CpuHistory:
    """One node's CPU readings: the newest ones and one at least a window old.

    The waits kept include the wait in progress: a thread ready to run at
    consecutive readings with the same CPU time has waited since the first of
    them, which the kernel adds to ``run_delay`` only once the thread runs.
    """

    def __init__(self) -> None:
        """Start with no readings."""
        self.pid: Optional[int] = None
        self.readings: Deque[Tuple[float, CpuReading]] = deque()
        self.unreadable = False
        self._ready: Dict[int, Tuple[float, float, float]] = {}  # tid: cpu, wait, since

    def _with_wait_in_progress(self, t: float, reading: CpuReading) -> CpuReading:
        waits = dict(reading.waits_s)
        ready = {}
        for tid, cpu in reading.ready.items():
            before = self._ready.get(tid)
            since = before[2] if before is not None and before[:2] == (cpu, waits.get(tid)) \
                else t
            ready[tid] = (cpu, waits.get(tid), since)
            waits[tid] = waits.get(tid, 0.0) + (t - since)
        self._ready = ready
        return CpuReading(reading.ran_s, waits, reading.state)

    def add(self, pid: int, t: float, reading: Optional[CpuReading], window_s: float) -> None:
        """Keep ``reading`` of process ``pid`` (a new pid starts afresh).

        Its time is its own (``time.monotonic``), else ``t``: the kernel's counters
        run in real time, and are judged so even under an injected clock.
        """
        if reading is not None and reading.t is not None:
            t = reading.t
        if pid != self.pid:
            self.pid = pid
            self.readings.clear()
            self._ready = {}
        self.unreadable = reading is None
        if reading is None:
            return
        if self.readings and t <= self.readings[-1][0]:
            return  # the clock did not move on: nothing new
        self.readings.append((t, self._with_wait_in_progress(t, reading)))
        while len(self.readings) > 1 and self.readings[1][0] <= t - window_s:
            self.readings.popleft()

    def verdict(self, pid: int, window_s: float) -> Optional[Verdict]:
        """Return what ``pid`` did over about the last ``window_s``; None when unknown."""
        if pid != self.pid or self.unreadable or len(self.readings) < 2:
            return None
        t1, last = self.readings[-1]
        t0, first = self.readings[0]
        if t1 - t0 < MIN_WINDOW_SHARE * window_s:
            return None  # too short a span to tell
        return classify(first, last, t1 - t0)


class CpuJudge:
    """The Watchdog's starvation judgement (a base class of it); see the module docstring.

    Uses the Watchdog's ``stale_timeout_s``, ``events``, ``_set`` and ``_emit``.
    """

    stale_timeout_s: float
    events: List[Event]

    def _init_cpu(self, read_cpu: Optional[Callable[[int], Optional[CpuReading]]]) -> None:
        if read_cpu is not None and not callable(read_cpu):
            raise ValueError(f'read_cpu must be a callable or None, got {read_cpu!r}')
        self._read_cpu = read_cpu
        self._cpu: Dict[str, CpuHistory] = {}
        self._cpu_unknown_said = False

    @property
    def starved_timeout_s(self) -> float:
        """Return the silence after which a starved node is judged hung anyway."""
        return STARVED_TIMEOUT_FACTOR * self.stale_timeout_s

    def _note_cpu(self, entry, now: float) -> None:
        """Read the CPU figures of ``entry``'s live process once it is silent a while."""
        if self._read_cpu is None or entry.pid is None or not entry.alive or entry.zombie:
            return
        since = entry.since if entry.since is not None else now
        signs = [entry.heartbeat_t if entry.heartbeat_t is not None else since]
        if entry.spec.output_topic:
            signs.append(entry.output_t if entry.output_t is not None else since)
        if now - min(signs) < READ_AFTER_SHARE * self.stale_timeout_s:
            self._cpu.pop(entry.spec.name, None)  # lively: nothing to read, nothing kept
            return
        try:
            reading = self._read_cpu(entry.pid)
        except Exception:  # noqa: BLE001 - an unreadable figure is unknown, never an error
            reading = None
        self._cpu.setdefault(entry.spec.name, CpuHistory()).add(
            entry.pid, now, reading, self.stale_timeout_s)

    def _still_starved(self, entry, now: float) -> bool:
        """Return True if a node judged starved is only excused by the watchdog's own stall.

        It sent nothing since: not healthy again (said once, when it is).
        """
        if entry.flag != (STARVED, entry.pid):
            return False
        last = entry.heartbeat_t if entry.heartbeat_t is not None else entry.since
        return last is None or now - last > self.stale_timeout_s

    def _review(self, entry, reason: str, silence_s: float, now: float) -> Optional[str]:
        """Return why a silent node is hung (with what it did); None: starved, given time."""
        if self._read_cpu is None:
            return reason
        history = self._cpu.get(entry.spec.name)
        verdict = history.verdict(entry.pid, self.stale_timeout_s) \
            if history is not None else None
        if verdict is None:
            if history is not None and history.unreadable and not self._cpu_unknown_said:
                self._cpu_unknown_said = True
                self.events.append(Event(
                    f'watchdog: the CPU wait of {entry.spec.name} (pid {entry.pid}) is '
                    'unreadable (no /proc/<pid>/task/*/schedstat: not Linux, or a kernel '
                    'without schedstat): a silent node is judged hung without telling a node '
                    'starved of CPU from a hung one', WARN))
            return reason
        cap = self.starved_timeout_s
        if verdict.kind != STARVED:
            return f'{reason}; {verdict.text()}'
        if silence_s >= cap:
            return (f'{reason}; starved of CPU: {verdict.text()}, silent past the {cap:g} s '
                    'a starved node is given')
        text = (f'starved of CPU: {verdict.text()}; {reason}: not hung, not ended unless '
                f'silent for {cap:g} s')
        self._set(entry, STARVED, WARN, text)
        self._emit(entry, (STARVED, entry.pid), f'watchdog: {entry.spec.name} {text}', WARN)
        return None
