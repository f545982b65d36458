# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Starve a process of CPU for a while (the ``starve`` fault of ``make faults``), then undo it.

Every thread of the process is pinned to one CPU at the lowest priority
(``SCHED_IDLE``: it runs only when nothing else wants that CPU) beside busy
processes pinned there: it stays ready to run and waits on the run queue, as a
node on an overloaded small computer does.  Where the kernel groups the processes
of a session (``sched_autogroup``, and the standalone runner starts each node in
a session of its own) the policy counts only inside the group, so the group of
the process is given the lowest weight too (``/proc/<pid>/autogroup`` nice 19).
Linux only.
"""

import os
import subprocess
import sys
from typing import Dict, List, Optional, Set, Tuple

#: A busy process that ends by itself after its time (never left behind by a failed run).
HOG = 'import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass'


def _autogroup(pid: int, nice: Optional[int] = None) -> Optional[int]:
    """Return the nice of ``pid``'s autogroup (None: none), after setting it to ``nice``."""
    path = f'/proc/{pid}/autogroup'
    try:
        before = int(open(path).read().split()[-1])  # '/autogroup-25 nice 0'
        if nice is not None:
            with open(path, 'w') as handle:
                handle.write(str(nice))
        return before
    except (OSError, ValueError, IndexError):
        return None


def _tids(pid: int) -> List[int]:
    try:
        return [int(tid) for tid in os.listdir(f'/proc/{pid}/task')]
    except (OSError, ValueError):
        return []


class CpuStarvation:
    """Crowds process ``pid`` off its CPUs until :meth:`stop` (at most ``limit_s``)."""

    def __init__(self, pid: int, limit_s: float, hogs: int = 2):
        """Start the busy processes and move every thread of ``pid`` beside them."""
        self.pid = pid
        cpu = max(os.sched_getaffinity(pid))
        code = HOG.format(seconds=float(limit_s))
        self.hogs = [subprocess.Popen([sys.executable, '-S', '-c', code],
                                      preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
                     for _ in range(hogs)]
        self.group_nice = _autogroup(pid, 19)
        self.saved: Dict[int, Tuple[Set[int], int]] = {}
        for tid in _tids(pid):
            try:
                self.saved[tid] = (os.sched_getaffinity(tid), os.sched_getscheduler(tid))
                os.sched_setaffinity(tid, {cpu})
                os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
            except OSError:
                continue  # the thread ended meanwhile

    def stop(self) -> None:
        """End the busy processes; give every thread its CPUs and scheduling policy back."""
        for hog in self.hogs:
            hog.kill()
            hog.wait()
        self.hogs = []
        if self.group_nice is not None:
            _autogroup(self.pid, self.group_nice)
        default = self.saved.get(self.pid) or next(iter(self.saved.values()), None)
        for tid in _tids(self.pid):  # threads born meanwhile get the main thread's
            affinity, policy = self.saved.get(tid, default) if default else (None, None)
            if affinity is None:
                continue
            try:
                os.sched_setaffinity(tid, affinity)
                os.sched_setscheduler(tid, policy, os.sched_param(0))
            except OSError:
                continue  # ended meanwhile
