# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Which processes are this run's (:class:`RunScope`), and following one node's process.

:class:`ProcessWatcher` finds a node's process (by the pid in its statuses, or
its ``__node:=<name>`` remap), follows it across restarts and reads it
(:mod:`face_tracker_ros.monitor.readings`), feeding its memory trends.
"""

from collections import deque
import math
import os
import time
from typing import Callable, Deque, Dict, List, Optional, Tuple

import psutil

from face_tracker_ros.interface import RUN_ID_ENV
from face_tracker_ros.monitor.readings import (  # noqa: F401 - the readings, re-exported
    is_zombie,
    process_summary_line,
    ProcessSample,
    PSUTIL_ERRORS,
    read_process,
    sample_system,
    start_time,
    SystemSample,
)
from face_tracker_ros.monitor.trend import LeakTrend
from face_tracker_ros.monitor.watchspec import NODE_NAME


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
        if not isinstance(node_name, str) or not NODE_NAME.fullmatch(node_name):
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
        if candidate is None or is_zombie(candidate):
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
        elif not self._alive(self._proc) or is_zombie(self._proc):
            self.find()
        proc = self._proc
        if proc is None or not self._alive(proc):
            return None
        reading, cpu_read = read_process(proc, first=not self._primed)
        self._primed = self._primed or cpu_read
        if reading is None or not self._alive(proc):
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
        except PSUTIL_ERRORS:
            return False

    def _from_hint(self) -> Optional[psutil.Process]:
        if self._hint is None or self._hint == os.getpid():
            return None
        if self._proc is not None and self._proc.pid == self._hint and self._alive(self._proc):
            return self._proc
        try:
            proc = psutil.Process(self._hint)
        except PSUTIL_ERRORS:
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
            except PSUTIL_ERRORS:
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
            except PSUTIL_ERRORS:
                continue
            created = start_time(proc)
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
            return fresh if start_time(fresh) == best_key[1] else None
        except PSUTIL_ERRORS:
            return None

    def _adopt(self, proc: psutil.Process) -> None:
        if self._proc is not None and self._proc.pid == proc.pid and self._same(proc):
            return
        started = start_time(proc)
        seen = any(pid == proc.pid and started is not None and t == started
                   for pid, t in self._seen)
        if self._proc is not None:
            # Start times are exact (clock ticks since boot), so "later" needs no tolerance;
            # one started in the same tick as the newest is new only if that one is gone.
            if not seen and (started is None or self._newest_start is None
                             or started > self._newest_start
                             or (started == self._newest_start
                                 and (not self._alive(self._proc) or is_zombie(self._proc)))):
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
            started = start_time(proc)
            return started is not None and started == start_time(self._proc)
        except PSUTIL_ERRORS:
            return False
