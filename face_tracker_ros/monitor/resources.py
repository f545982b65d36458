# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""System and per-process resource readings (psutil), and the grep-able summary line.

Every reading races with processes exiting, so every psutil call here is
guarded: a process that is gone yields None, a zombie yields what the kernel
still tells (state, name, threads, uptime; no memory), and a figure the
platform cannot read is NaN (floats) or -1 (integers) instead of an error.
"""

from collections import deque
from dataclasses import dataclass, field
import math
import os
import re
import time
from typing import Callable, Deque, Dict, List, Optional, Tuple

import psutil

from face_tracker_ros.interface import RUN_ID_ENV
from face_tracker_ros.monitor.trend import LeakTrend

MB = 1024.0 * 1024.0

#: Where CPU temperatures are found, most specific first: Intel, AMD, Raspberry Pi and
#: other ARM boards, then the generic ACPI zone.
_TEMP_CHIPS = ('coretemp', 'k10temp', 'zenpower', 'cpu_thermal', 'cpu-thermal',
               'soc_thermal', 'x86_pkg_temp', 'acpitz')

_PSUTIL_ERRORS = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)

#: Where Linux tells a process's start in clock ticks since boot (exact, never moves).
_PROC_STAT = '/proc/{pid}/stat'
_LINUX_PROC = os.path.isdir('/proc/self')
_CLOCK_TICKS = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100


@dataclass
class ProcessSample:
    """One reading of one process.

    ``rss_mb`` is NaN when unreadable and 0.0 for a zombie; ``num_fds`` is -1
    when unreadable; ``cpu_percent`` is the percent of one core since the
    previous sample of the same watcher (can exceed 100 on several cores).
    ``anon_mb`` is the anonymous part of the RSS (heap, stacks: RSS minus the
    file and shared-memory pages, Linux's ``RssAnon``), NaN where the platform
    does not tell it.
    """

    pid: int
    name: str
    rss_mb: float
    cpu_percent: float
    num_threads: int
    num_fds: int
    state: str
    zombie: bool
    uptime_s: float
    cmdline: List[str] = field(default_factory=list)
    anon_mb: float = math.nan


@dataclass
class SystemSample:
    """One reading of the whole machine; unreadable figures are NaN (temperature None)."""

    cpu_percent: float
    cpu_percent_per_core: List[float]
    load_1m: float
    load_5m: float
    load_15m: float
    mem_used_percent: float
    mem_available_mb: float
    swap_used_percent: float
    disk_free_mb: float
    disk_free_percent: float
    cpu_temp_c: Optional[float]


def _node_token(node_name: str) -> str:
    return f'__node:={node_name}'


def _cmdline_names_node(cmdline: Optional[List[str]], token: str) -> bool:
    """Return True if a ``--ros-args`` remap in ``cmdline`` names the node.

    Matches the argument ``__node:=<name>`` and the node-specific form
    ``<old>:__node:=<name>``, never a longer string that merely contains it
    (such as a ``sh -c '...'`` wrapper's script).
    """
    if not cmdline:
        return False
    suffix = ':' + token
    return any(arg == token or arg.endswith(suffix) for arg in cmdline)


def normalise_namespace(namespace: str) -> str:
    """Return a ROS namespace as rcl resolves it: ``left`` and ``/left/`` are ``/left``."""
    text = (namespace or '').strip().strip('/')
    return '/' + text


def cmdline_namespace(cmdline: Optional[List[str]]) -> str:
    """Return the namespace a ``__ns:=`` remap in ``cmdline`` gives its node ('/' if none)."""
    namespace = '/'
    for arg in cmdline or ():
        head, sep, value = arg.rpartition('__ns:=')
        if sep and (head == '' or head.endswith(':')):
            namespace = normalise_namespace(value)
    return namespace


def environ_run_id(environ: Dict[str, str]) -> str:
    """Return the run id in a process environment ('' when it carries none)."""
    return environ.get(RUN_ID_ENV, '')


class RunScope:
    """Which processes on the machine belong to this tracker run, in this namespace.

    Every process of one ``ros2 launch`` or standalone run carries the same
    :data:`~face_tracker_ros.interface.RUN_ID_ENV` in its environment.  With a
    run id of its own, a process is in scope only if its environment (read
    from ``/proc/<pid>/environ``) carries the same id; without one (a node
    started by hand), only its siblings (same parent, a parent other than
    init) and its own children that carry no run id are.  A process whose
    environment cannot be read (another user's) is never in scope; a zombie
    (its environment is gone) is when it is a sibling: it is reported, never
    signalled.  The process's ``__ns:=`` remap must give ``namespace``, so two
    trackers side by side in namespaces ``left`` and ``right`` never mix.
    The current process is never in scope.
    """

    def __init__(self, namespace: str = '/', environ: Optional[Dict[str, str]] = None,
                 pid: Optional[int] = None, ppid: Optional[int] = None):
        """Take the run id from ``environ`` (default: this process's) and the namespace."""
        environ = os.environ if environ is None else environ
        self.run_id = environ_run_id(environ)
        self.namespace = normalise_namespace(namespace)
        self.pid = os.getpid() if pid is None else pid
        self.ppid = os.getppid() if ppid is None else ppid

    def describe(self) -> str:
        """Say in words which processes are in scope, for the log."""
        where = f'namespace {self.namespace}'
        if self.run_id:
            return f'processes of run {self.run_id} in {where}'
        if self.ppid > 1:
            return (f'no run id ({RUN_ID_ENV} unset): only sibling processes (parent '
                    f'{self.ppid}) without a run id in {where}')
        return f'no run id ({RUN_ID_ENV} unset) and no parent to share: only own children'

    def owns(self, proc) -> bool:
        """Return True if ``proc`` (a psutil.Process or a pid) is a process of this run."""
        try:
            if not isinstance(proc, psutil.Process):
                proc = psutil.Process(int(proc))
            if proc.pid == self.pid:
                return False
            zombie = proc.status() == psutil.STATUS_ZOMBIE
            parent = proc.ppid()
            sibling = parent == self.ppid and self.ppid > 1
            if zombie:
                return sibling or parent == self.pid
            if cmdline_namespace(proc.cmdline()) != self.namespace:
                return False
            run_id = environ_run_id(proc.environ())
        except (psutil.Error, OSError, ValueError, TypeError, OverflowError):
            return False  # gone, another user's, or unreadable: never ours
        if self.run_id:
            return run_id == self.run_id
        return not run_id and (sibling or parent == self.pid)


class ProcessWatcher:
    """Follows the process of one node (by its ``__node:=<name>`` remap) across restarts.

    Only processes in ``scope`` (:class:`RunScope`: this run, this namespace)
    are ever considered: a look-alike of another tracker or of an unrelated
    program with the same ``__node:=<name>`` is never followed.

    ``restarts`` counts the new processes of the node seen after the first:
    one that started later than every process followed before (a second
    reading of the same process, or a move back to an older one, is not a
    restart);
    ``trend`` is fed with the RSS of every sample and ``anon_trend`` with its
    anonymous part (``anon_mb``, where readable); a restart empties both.

    The anonymous part is what a leak in the process's own code grows: its
    heap and stacks.  RSS also counts pages the process maps from files and
    from other processes' shared memory (Fast DDS's transport segments), which
    it takes in as it first reads them, up to their size, and which the kernel
    may drop and read again: an RSS trend moves with those too.
    """

    def __init__(self, node_name: str, clock: Callable[[], float] = time.monotonic,
                 trend: Optional[LeakTrend] = None, anon_trend: Optional[LeakTrend] = None,
                 scope: Optional[RunScope] = None):
        if not isinstance(node_name, str) or not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*',
                                                              node_name):
            raise ValueError('node_name must be a ROS node name (a letter or _, then letters, '
                             f'digits or _), got {node_name!r}')
        self.node_name = node_name
        self._token = _node_token(node_name)
        self._clock = clock
        self.trend = trend if trend is not None else LeakTrend()
        self.anon_trend = anon_trend if anon_trend is not None else LeakTrend(
            window_s=self.trend.window_s, min_span_s=self.trend.min_span_s)
        self.scope = scope if scope is not None else RunScope()
        self.restarts = 0
        self._proc: Optional[psutil.Process] = None
        self._hint: Optional[int] = None
        self._primed = False
        self._newest_start: Optional[float] = None
        self._seen: Deque[Tuple[int, float]] = deque(maxlen=64)  # (pid, start) followed

    @property
    def pid(self) -> Optional[int]:
        """Return the pid currently followed, or None before the first one is found."""
        return self._proc.pid if self._proc is not None else None

    def set_pid(self, pid: int) -> None:
        """Remember a pid learnt from the node itself; find() prefers it while it matches."""
        if isinstance(pid, bool):
            return
        try:
            value = int(pid)
        except (TypeError, ValueError, OverflowError):
            return
        self._hint = value if value > 0 else None

    def find(self) -> Optional[int]:
        """Return the pid of the live process of this node, or None if there is none.

        Order of preference: the pid given by set_pid() if that process
        exists and its command line names the node (or cannot be read, as
        for a zombie); the process followed so far if it still runs; then a
        scan of all processes for ``__node:=<name>`` (the newest wins).  A
        zombie is returned only when no live process of the node exists.
        The current process is never returned.
        """
        candidate = self._from_hint()
        if candidate is None and self._alive(self._proc):
            candidate = self._proc
        if candidate is None or _is_zombie(candidate):
            # A zombie is only reported while no live process of the node exists.
            candidate = self._scan() or candidate
        if candidate is None:
            return None
        self._adopt(candidate)
        return candidate.pid

    def sample(self) -> Optional[ProcessSample]:
        """Read the node's process now; None when no process of the node exists.

        The first sample of a process primes its CPU figure and reports 0.0.
        """
        if self._hint is not None and (self._proc is None or self._hint != self._proc.pid):
            self.find()
        elif not self._alive(self._proc) or _is_zombie(self._proc):
            self.find()
        proc = self._proc
        if proc is None or not self._alive(proc):
            return None
        reading = self._read(proc)
        if reading is None:
            return None
        if not reading.zombie:
            now = self._clock()
            if math.isfinite(reading.rss_mb):
                self.trend.add(now, reading.rss_mb)
            if math.isfinite(reading.anon_mb):
                self.anon_trend.add(now, reading.anon_mb)
        return reading

    # -- internals -------------------------------------------------------

    @staticmethod
    def _alive(proc: Optional[psutil.Process]) -> bool:
        if proc is None:
            return False
        try:
            return proc.is_running()
        except _PSUTIL_ERRORS:
            return False

    def _from_hint(self) -> Optional[psutil.Process]:
        if self._hint is None or self._hint == os.getpid():
            return None
        if self._proc is not None and self._proc.pid == self._hint and self._alive(self._proc):
            return self._proc
        try:
            proc = psutil.Process(self._hint)
        except _PSUTIL_ERRORS:
            self._hint = None  # stale: the process is gone
            return None
        try:
            cmdline = proc.cmdline()
        except (psutil.AccessDenied, psutil.ZombieProcess):
            return proc
        except psutil.NoSuchProcess:
            self._hint = None  # stale: the process is gone
            return None
        if _cmdline_names_node(cmdline, self._token) and self.scope.owns(proc):
            return proc
        if not cmdline:
            # Empty for a zombie (accepted: the node's own pid, now dead) but also for a
            # kernel thread or a process in the middle of exec (not the node).
            try:
                if proc.status() == psutil.STATUS_ZOMBIE and self.scope.owns(proc):
                    return proc
            except _PSUTIL_ERRORS:
                pass
        self._hint = None  # stale: the pid now belongs to another program
        return None

    def _scan(self) -> Optional[psutil.Process]:
        me = os.getpid()
        best = None
        best_key = None
        for proc in psutil.process_iter():
            if proc.pid == me:
                continue
            try:
                if not _cmdline_names_node(proc.cmdline(), self._token) \
                        or not self.scope.owns(proc):
                    continue
                zombie = proc.status() == psutil.STATUS_ZOMBIE
            except _PSUTIL_ERRORS:
                continue
            created = _start_time(proc)
            if created is None:
                continue
            key = (not zombie, created, proc.pid)
            if best_key is None or key > best_key:
                best, best_key = proc, key
        if best is None:
            return None
        try:
            # A private Process object: process_iter() shares its cached ones, and
            # cpu_percent() keeps its state per object.
            fresh = psutil.Process(best.pid)
            return fresh if _start_time(fresh) == best_key[1] else None
        except _PSUTIL_ERRORS:
            return None

    def _adopt(self, proc: psutil.Process) -> None:
        if self._proc is not None and self._proc.pid == proc.pid and self._same(proc):
            return
        started = _start_time(proc)
        seen = any(pid == proc.pid and started is not None and t == started
                   for pid, t in self._seen)
        if self._proc is not None:
            # Start times are exact (clock ticks since boot), so "later" needs no tolerance;
            # one started in the same tick as the newest is new only if that one is gone.
            if not seen and (started is None or self._newest_start is None
                             or started > self._newest_start
                             or (started == self._newest_start
                                 and (not self._alive(self._proc) or _is_zombie(self._proc)))):
                self.restarts += 1
            self.trend.reset()
            self.anon_trend.reset()
        if started is not None:
            if not seen:
                self._seen.append((proc.pid, started))
            if self._newest_start is None or started > self._newest_start:
                self._newest_start = started
        self._proc = proc
        self._primed = False

    def _same(self, proc: psutil.Process) -> bool:
        try:
            started = _start_time(proc)
            return started is not None and started == _start_time(self._proc)
        except _PSUTIL_ERRORS:
            return False

    def _read(self, proc: psutil.Process) -> Optional[ProcessSample]:
        try:
            with proc.oneshot():
                state = _call(proc.status, 'unknown')
                zombie = state == psutil.STATUS_ZOMBIE
                name = _call(proc.name, '')
                memory = _call(proc.memory_info, None)
                rss_mb = memory.rss / MB if memory is not None else float('nan')
                # Linux: 'shared' is the resident file and shared-memory pages (statm).
                shared = getattr(memory, 'shared', None)
                anon_mb = (memory.rss - shared) / MB if shared is not None else float('nan')
                if zombie:
                    rss_mb = anon_mb = 0.0
                cpu = _call(lambda: proc.cpu_percent(interval=None), float('nan'))
                if not self._primed:
                    cpu = 0.0
                    self._primed = True
                threads = _call(proc.num_threads, -1)
                fds = _call(proc.num_fds, -1) if hasattr(proc, 'num_fds') else -1
                created = _call(proc.create_time, None)
                uptime = (max(0.0, time.time() - created) if created is not None
                          else float('nan'))
                cmdline = _call(proc.cmdline, [])
        except psutil.NoSuchProcess:
            return None
        if not self._alive(proc):
            return None
        return ProcessSample(pid=proc.pid, name=name, rss_mb=rss_mb, cpu_percent=cpu,
                             num_threads=threads, num_fds=fds, state=state, zombie=zombie,
                             uptime_s=uptime, cmdline=list(cmdline or []), anon_mb=anon_mb)


def _start_time(proc: psutil.Process) -> Optional[float]:
    """Return when ``proc`` started, in seconds, exact enough to order and identify processes.

    On Linux, the clock ticks since boot from ``/proc/<pid>/stat``: psutil's
    ``create_time()`` adds the boot time, which the kernel recomputes from the
    wall clock on every read of ``/proc/stat`` and may move by a second, more
    than the gap between two processes started one after the other.  Elsewhere,
    psutil's ``create_time()``.  None when the process is gone or unreadable.
    """
    if _LINUX_PROC:
        try:
            with open(_PROC_STAT.format(pid=proc.pid), 'rb') as handle:
                data = handle.read()
            # Fields after the command name (which may hold spaces and parentheses):
            # state is field 3, starttime field 22.
            return int(data[data.rindex(b')') + 2:].split()[19]) / _CLOCK_TICKS
        except (OSError, ValueError, IndexError):
            return None
    return _call_quietly(proc.create_time)


def _call_quietly(getter) -> Optional[float]:
    try:
        return getter()
    except _PSUTIL_ERRORS:
        return None


def _is_zombie(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except _PSUTIL_ERRORS:
        return False


def _call(getter, default):
    """Call a psutil getter; ``default`` if the figure is unreadable (gone is re-raised)."""
    try:
        return getter()
    except psutil.NoSuchProcess as exc:
        if isinstance(exc, psutil.ZombieProcess):
            return default
        raise
    except psutil.AccessDenied:
        return default
    except OSError:
        return default


def _guard(getter, default):
    try:
        return getter()
    except Exception:  # noqa: BLE001 - a reading must never stop the monitor
        return default


def _cpu_temperature() -> Optional[float]:
    """Return the CPU temperature in deg C where the platform exposes one, else None."""
    reader = getattr(psutil, 'sensors_temperatures', None)
    if reader is None:
        return None
    chips = _guard(reader, None) or {}
    names = [name for name in _TEMP_CHIPS if name in chips]
    names += [name for name in chips if name not in names
              and ('cpu' in name.lower() or 'soc' in name.lower())]
    for name in names:
        values = [entry.current for entry in chips[name]
                  if isinstance(entry.current, (int, float)) and math.isfinite(entry.current)]
        if values:
            return float(max(values))
    return None


def sample_system(disk_path: str) -> SystemSample:
    """Read the machine's CPU, load, memory, swap, free disk at ``disk_path`` and temperature.

    ``cpu_percent`` figures cover the time since the previous call in this
    process (the first call returns 0.0).  Never raises: an unreadable figure
    is NaN, an unreadable temperature None.
    """
    nan = float('nan')
    cpu = _guard(lambda: float(psutil.cpu_percent(interval=None)), nan)
    per_core = _guard(lambda: [float(v) for v in psutil.cpu_percent(interval=None, percpu=True)],
                      [])
    load = _guard(lambda: tuple(float(v) for v in psutil.getloadavg()), (nan, nan, nan))
    memory = _guard(psutil.virtual_memory, None)
    swap = _guard(psutil.swap_memory, None)
    disk = _guard(lambda: psutil.disk_usage(disk_path), None)
    if disk is not None and disk.total > 0:
        disk_free_mb = disk.free / MB
        disk_free_percent = 100.0 * disk.free / disk.total
    else:
        disk_free_mb = disk_free_percent = nan
    return SystemSample(
        cpu_percent=cpu,
        cpu_percent_per_core=per_core,
        load_1m=load[0], load_5m=load[1], load_15m=load[2],
        mem_used_percent=float(memory.percent) if memory is not None else nan,
        mem_available_mb=memory.available / MB if memory is not None else nan,
        swap_used_percent=float(swap.percent) if swap is not None else nan,
        disk_free_mb=disk_free_mb,
        disk_free_percent=disk_free_percent,
        cpu_temp_c=_guard(_cpu_temperature, None),
    )


def _field(value: object) -> str:
    """Format one value of the summary line: no spaces, no line breaks, short floats."""
    if value is None:
        return 'na'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return 'nan'
        if value == 0.0 or abs(value) >= 1.0 or math.isinf(value):
            return f'{value:.1f}'
        return f'{value:.3g}'
    text = re.sub(r'\s+', '_', str(value).strip())
    return text or '""'


def _key(key: object) -> str:
    return re.sub(r'[^A-Za-z0-9_.]+', '_', str(key)) or 'key'


def _growth(slope: Optional[float]) -> str:
    return 'na' if slope is None or not math.isfinite(slope) else f'{slope:+.1f}'


def process_summary_line(node_name: str, s: ProcessSample, slope: Optional[float],
                         extra: Optional[Dict[str, object]] = None,
                         anon_slope: Optional[float] = None) -> str:
    """Return one grep-able ``key=value`` line about a node's process for the log.

    For example ``resource monitor: node=camera pid=1234 rss_mb=84.2
    rss_growth_mb_per_h=+0.1 anon_mb=40.1 anon_growth_mb_per_h=+0.0
    cpu_percent=12.3 num_fds=23 num_threads=9 state=sleeping uptime_s=3600
    frames_total=108000 errors_total=0`` (one line).  ``slope`` (RSS) and
    ``anon_slope`` None print ``na``; ``extra`` items follow in order, keys and
    values stripped of spaces and line breaks, so
    ``grep 'resource monitor' | grep -o 'rss_mb=[0-9.]*'`` shows the memory trend.
    """
    uptime = 'nan' if not math.isfinite(s.uptime_s) else str(int(s.uptime_s))
    parts = [
        'resource monitor:',
        f'node={_field(node_name)}',
        f'pid={s.pid}',
        f'rss_mb={_field(float(s.rss_mb))}',
        f'rss_growth_mb_per_h={_growth(slope)}',
        f'anon_mb={_field(float(s.anon_mb))}',
        f'anon_growth_mb_per_h={_growth(anon_slope)}',
        f'cpu_percent={_field(float(s.cpu_percent))}',
        f'num_fds={s.num_fds}',
        f'num_threads={s.num_threads}',
        f'state={_field(s.state)}',
        f'uptime_s={uptime}',
    ]
    for key, value in (extra or {}).items():
        parts.append(f'{_key(key)}={_field(value)}')
    return ' '.join(parts)
