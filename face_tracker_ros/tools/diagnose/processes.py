# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The tracker's processes: which they are, their resources and file descriptors."""

import os
import re
import resource
import time
from typing import Dict, List, Optional, Sequence, Tuple

import psutil

from face_tracker_ros.interface import PACKAGE
from face_tracker_ros.tools.diagnose.util import (
    int_or_none,
    iso_time,
    read_text,
    round_or_none,
    safe_get,
)

_NODE_ARG_RE = re.compile(r'(?:^|:)__node:=([A-Za-z_][A-Za-z0-9_]*)$')


def node_of(cmdline: Sequence[str]) -> str:
    """Return the node name of a ``__node:=`` remap in ``cmdline``, else ''."""
    for arg in cmdline:
        match = _NODE_ARG_RE.search(arg)
        if match:
            return match.group(1)
    return ''


def role_of(cmdline: Sequence[str]) -> str:
    """Return what a command line runs: the ``-m`` module, else the program name."""
    for i, arg in enumerate(cmdline):
        if arg == '-m' and i + 1 < len(cmdline):
            return cmdline[i + 1]
    for arg in cmdline[:3]:
        base = os.path.basename(arg)
        if 'face_tracker' in base or base.endswith('_node'):
            return base
    return os.path.basename(cmdline[0]) if cmdline else ''


#: Command lines of the post-mortem tools themselves (this one, its ROS probe, report).
_TOOLS = ('face_tracker_ros.tools.diagnose', 'face_tracker_ros.tools.report',
          'face_tracker_diagnose', 'face_tracker_report')


def is_tracker_cmdline(cmdline: Sequence[str]) -> bool:
    """Return True for a command line of the tracker: a ``__node:=`` remap or the package.

    The post-mortem tools (diagnose, its ROS probe, report) are not the tracker.
    """
    if not cmdline:
        return False
    if any(arg in _TOOLS or os.path.basename(arg) in _TOOLS for arg in cmdline[:4]):
        return False
    if node_of(cmdline):
        return True
    return any(PACKAGE in arg or os.path.basename(arg).startswith('face_tracker_')
               for arg in cmdline)


def find_tracker_processes() -> List[Tuple[psutil.Process, List[str]]]:
    """Return ``(process, cmdline)`` of every tracker process (not this tool's own)."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            cmdline = proc.cmdline()
        except (psutil.Error, OSError):
            continue
        if is_tracker_cmdline(cmdline):
            found.append((proc, cmdline))
    return found


def probe_processes(cpu_sample_s: float = 0.5) -> dict:
    """Describe the tracker's processes: pid, node, RSS, CPU, FDs, threads, state, uptime."""
    found = find_tracker_processes()
    for proc, _ in found:
        safe_get(lambda p=proc: p.cpu_percent(interval=None))
    time.sleep(cpu_sample_s)
    rows = []
    now = time.time()
    for proc, cmdline in found:
        with_oneshot = safe_get(proc.oneshot)
        if with_oneshot is None:
            continue
        with with_oneshot:
            state = safe_get(proc.status, 'unknown')
            if not safe_get(proc.is_running, False):
                continue  # exited since the scan
            memory = safe_get(proc.memory_info)
            created = safe_get(proc.create_time)
            rows.append({
                'pid': proc.pid,
                'ppid': safe_get(proc.ppid),
                'node': node_of(cmdline),
                'role': role_of(cmdline),
                'name': safe_get(proc.name, ''),
                'cmdline': ' '.join(cmdline)[:300],
                'user': safe_get(proc.username, ''),
                'state': state,
                'zombie': state == psutil.STATUS_ZOMBIE,
                'rss_mb': round_or_none(memory.rss / 1048576.0) if memory else None,
                # The anonymous part (heap, stacks): where a leak of the node's own shows.
                'anon_mb': round_or_none((memory.rss - memory.shared) / 1048576.0)
                if memory and hasattr(memory, 'shared') else None,
                'vms_mb': round_or_none(memory.vms / 1048576.0) if memory else None,
                'cpu_percent': round_or_none(
                    safe_get(lambda p=proc: p.cpu_percent(interval=None))),
                'num_threads': safe_get(proc.num_threads),
                'num_fds': safe_get(proc.num_fds),
                'uptime_s': round_or_none(now - created) if created else None,
                'started': iso_time(created),
            })
    rows.sort(key=lambda r: (r['node'] == '', r['node'], r['pid']))
    return {'count': len(rows), 'cpu_sample_s': cpu_sample_s, 'processes': rows,
            'match': 'command lines with __node:=<name> or naming face_tracker_ros'}


def _fd_kind(target: str) -> str:
    if target.startswith('socket:'):
        return 'socket'
    if target.startswith('pipe:'):
        return 'pipe'
    if target.startswith('anon_inode:'):
        return 'anon_inode'
    if target.startswith('/dev/'):
        return 'device'
    if target.startswith('/'):
        return 'file'
    return 'other'


def _fd_breakdown(pid: int) -> Optional[Dict[str, int]]:
    fd_dir = f'/proc/{pid}/fd'
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return None
    kinds: Dict[str, int] = {}
    for fd in fds:
        try:
            kind = _fd_kind(os.readlink(os.path.join(fd_dir, fd)))
        except OSError:
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def probe_fds(top_n: int = 10) -> dict:
    """Describe file-descriptor use: the system table, limits, the tracker's and the top users."""
    system = {}
    text = read_text('/proc/sys/fs/file-nr')
    if text and len(text.split()) == 3:
        allocated, unused, maximum = (int(v) for v in text.split())
        system = {'allocated': allocated, 'unused': unused, 'max': maximum,
                  'used_percent': round_or_none(100.0 * allocated / maximum, 2)
                  if maximum else None}
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    tracker = []
    for proc, cmdline in find_tracker_processes():
        limits = safe_get(lambda p=proc: p.rlimit(psutil.RLIMIT_NOFILE))
        count = safe_get(proc.num_fds)
        row = {'pid': proc.pid, 'node': node_of(cmdline), 'role': role_of(cmdline),
               'num_fds': count, 'limit_soft': limits[0] if limits else None,
               'limit_hard': limits[1] if limits else None,
               'by_kind': _fd_breakdown(proc.pid)}
        if count is not None and limits and limits[0] > 0:
            row['percent_of_limit'] = round_or_none(100.0 * count / limits[0])
        tracker.append(row)
    users = []
    unreadable = 0
    for proc in psutil.process_iter():
        count = safe_get(proc.num_fds)
        if count is None:
            unreadable += 1
            continue
        users.append({'pid': proc.pid, 'name': safe_get(proc.name, ''), 'num_fds': count})
    users.sort(key=lambda r: -r['num_fds'])
    return {'system': system, 'nr_open': int_or_none(read_text('/proc/sys/fs/nr_open')),
            'own_limit': {'soft': soft, 'hard': hard}, 'tracker': tracker,
            'top': users[:top_n], 'unreadable_processes': unreadable}
