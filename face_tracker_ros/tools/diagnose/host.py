# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The machine: system resources, kernel messages and the tracker's log file."""

import os
from pathlib import Path
import platform
import re
import shutil
import socket
import sys
import time
from typing import Any, Dict, Iterable, List, Optional

import psutil

from face_tracker_ros.common.params import defaults
from face_tracker_ros.common.paths import default_log_dir
from face_tracker_ros.interface import PACKAGE
from face_tracker_ros.monitor.params import PARAMS as MONITOR_PARAMS
from face_tracker_ros.monitor.resources import sample_system
from face_tracker_ros.tools.diagnose.devices import group_name, user_name
from face_tracker_ros.tools.diagnose.util import (
    iso_time,
    read_text,
    round_or_none,
    run_command,
    safe_get,
)

#: The log file's name: the diagnostics node's default.
LOG_NAME = defaults(MONITOR_PARAMS)['log_file']
#: How many of the log file's last lines are searched for ERROR/WARN lines.
DEFAULT_LOG_LINES = 2000
#: Kernel message categories: name, pattern.
KERNEL_PATTERNS = (
    ('usb_disconnect', re.compile(r'USB disconnect|disconnected from tty', re.I)),
    ('usb_error', re.compile(
        r'usb \S+: (device descriptor read|device not accepting|unable to enumerate|'
        r'reset \S+ speed|.*over-current)|cable is bad|xhci.*(error|halt)', re.I)),
    ('camera', re.compile(r'uvcvideo|videodev|\bv4l2?\b', re.I)),
    ('serial', re.compile(r'ttyUSB|ttyACM|cdc_acm|ftdi_sio|ch341|cp210x|pl2303', re.I)),
    ('oom', re.compile(r'out of memory|oom-kill|oom_reaper|invoked oom-killer|'
                       r'Killed process \d+', re.I)),
)
_LOG_LEVEL_RE = re.compile(r'^\S+\s+(DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\s')


def probe_system(cpu_sample_s: float = 0.5, log_dir: Optional[Path] = None) -> dict:
    """Describe the machine: OS, uptime, CPU, load, memory, swap, disks, temperature, env."""
    per_core = [float(v) for v in psutil.cpu_percent(interval=cpu_sample_s, percpu=True)]
    disks = []
    seen = set()
    for path in ('/', os.getcwd(), str(log_dir) if log_dir else None):
        if not path or not os.path.isdir(path):
            continue
        if path in seen:
            continue
        seen.add(path)
        sample = sample_system(path)
        disks.append({'path': path, 'free_mb': round_or_none(sample.disk_free_mb, 0),
                      'free_percent': round_or_none(sample.disk_free_percent)})
    sample = sample_system('/')
    memory = safe_get(psutil.virtual_memory)
    swap = safe_get(psutil.swap_memory)
    boot = safe_get(psutil.boot_time)
    uname = platform.uname()
    euid = os.geteuid()
    env_keys = ('ROS_DISTRO', 'ROS_DOMAIN_ID', 'RMW_IMPLEMENTATION',
                'ROS_AUTOMATIC_DISCOVERY_RANGE', 'ROS_LOCALHOST_ONLY',
                'FASTDDS_DEFAULT_PROFILES_FILE', 'ROS_LOG_DIR', 'ROS_HOME', 'XDG_RUNTIME_DIR')
    return {
        'hostname': socket.gethostname(),
        'os': platform.platform(),
        'kernel': uname.release,
        'machine': uname.machine,
        'python': sys.version.split()[0],
        'boot_time': iso_time(boot),
        'uptime_s': round_or_none(time.time() - boot, 0) if boot else None,
        'cpu_count': psutil.cpu_count(),
        'cpu_percent': round_or_none(sum(per_core) / len(per_core)) if per_core else None,
        'cpu_percent_per_core': [round_or_none(v) for v in per_core],
        'load': [round_or_none(sample.load_1m, 2), round_or_none(sample.load_5m, 2),
                 round_or_none(sample.load_15m, 2)],
        'mem_total_mb': round_or_none(memory.total / 1048576.0, 0) if memory else None,
        'mem_used_percent': round_or_none(sample.mem_used_percent),
        'mem_available_mb': round_or_none(sample.mem_available_mb, 0),
        'swap_total_mb': round_or_none(swap.total / 1048576.0, 0) if swap else None,
        'swap_used_percent': round_or_none(sample.swap_used_percent),
        'cpu_temp_c': round_or_none(sample.cpu_temp_c),
        'disks': disks,
        'user': {'name': user_name(euid), 'uid': euid,
                 'groups': sorted({group_name(g) for g in os.getgroups()})},
        'environment': {key: os.environ.get(key) for key in env_keys},
    }


def classify_kernel_lines(lines: Iterable[str], keep: int = 20) -> dict:
    """Sort kernel lines into USB disconnect/error, camera, serial and OOM categories.

    Returns ``{'counts': {category: n}, 'matches': {category: last ``keep`` lines}}``.
    """
    counts = {name: 0 for name, _ in KERNEL_PATTERNS}
    matches: Dict[str, List[str]] = {name: [] for name, _ in KERNEL_PATTERNS}
    for line in lines:
        for name, pattern in KERNEL_PATTERNS:
            if pattern.search(line):
                counts[name] += 1
                matches[name].append(line.rstrip()[:300])
                if len(matches[name]) > keep:
                    del matches[name][0]
    return {'counts': counts, 'matches': matches}


def _kernel_commands() -> List[List[str]]:
    commands = []
    dmesg = shutil.which('dmesg')
    if dmesg:
        commands.append([dmesg, '--time-format', 'iso'])
        commands.append([dmesg])
    journalctl = shutil.which('journalctl')
    if journalctl:
        commands.append([journalctl, '-k', '-b', '--no-pager', '-q', '-o', 'short-iso',
                         '-n', '5000'])
    return commands


def probe_kernel(commands: Optional[List[List[str]]] = None, timeout_s: float = 4.0) -> dict:
    """Read kernel messages (``dmesg``, else ``journalctl -k``) about USB and OOM kills.

    Without the right to read the kernel log (``kernel.dmesg_restrict`` and
    no root, or no journal) it says so in ``readable``/``attempts``.
    """
    commands = _kernel_commands() if commands is None else commands
    attempts = []
    text = None
    source = None
    deadline = time.monotonic() + timeout_s
    for argv in commands:
        remaining = deadline - time.monotonic()
        if remaining <= 0.2:
            attempts.append({'argv': argv, 'error': 'no time left'})
            break
        result = run_command(argv, min(remaining, timeout_s))
        attempt = {'argv': argv, 'returncode': result['returncode'],
                   'error': result['error'] or result['stderr'].strip()[:300]}
        attempts.append(attempt)
        output = result['stdout']
        if result['returncode'] != 0:
            continue
        if 'No journal files' in output + result['stderr']:
            attempt['error'] = 'no journal on this system'
            continue
        text = '' if output.strip().startswith('-- No entries --') else output
        source = ' '.join([os.path.basename(argv[0])] + list(argv[1:]))
        break
    data: Dict[str, Any] = {
        'readable': text is not None,
        'source': source,
        'attempts': attempts,
        'dmesg_restrict': (read_text('/proc/sys/kernel/dmesg_restrict') or '').strip() or None,
    }
    if text is None:
        if not commands:
            data['reason'] = 'neither dmesg nor journalctl is installed'
        else:
            data['reason'] = ('kernel messages not readable: '
                              + '; '.join(a['error'] or f"exit {a.get('returncode')}"
                                          for a in attempts))
        return data
    lines = text.splitlines()
    data['lines_scanned'] = len(lines)
    data.update(classify_kernel_lines(lines))
    return data


def log_candidates(log_path: Optional[str] = None) -> List[Path]:
    """Return where face_tracker.log is looked for: ``log_path`` if given, else the defaults."""
    if log_path:
        path = Path(log_path).expanduser()
        return [path / LOG_NAME if path.is_dir() else path]
    candidates = [default_log_dir() / LOG_NAME,
                  Path.home() / '.ros' / 'log' / PACKAGE / LOG_NAME]
    unique = []
    for path in candidates:
        if path not in unique:
            unique.append(path)
    return unique


def tail_lines(path: Path, count: int, max_bytes: int = 8 * 1024 * 1024) -> List[str]:
    """Return the last ``count`` lines of a text file, reading at most ``max_bytes``."""
    with open(path, 'rb') as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        block = 65536
        data = b''
        position = size
        while position > 0 and data.count(b'\n') <= count and size - position < max_bytes:
            step = min(block, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
    lines = data.decode('utf-8', 'replace').splitlines()
    if position > 0 and lines:
        lines = lines[1:]  # the first one is cut
    return lines[-count:]


def probe_log(log_path: Optional[str] = None, lines: int = DEFAULT_LOG_LINES,
              keep: int = 40) -> dict:
    """Summarise face_tracker.log: size, age, rotations, WARN/ERROR lines of the last ``lines``."""
    candidates = log_candidates(log_path)
    path = next((p for p in candidates if p.is_file()), None)
    data: Dict[str, Any] = {'searched': [str(p) for p in candidates], 'found': path is not None}
    if path is None:
        data['note'] = 'log file not found (pass --log PATH if it is elsewhere)'
        return data
    st = path.stat()
    data.update({
        'path': str(path), 'size_mb': round_or_none(st.st_size / 1048576.0, 2),
        'modified': iso_time(st.st_mtime), 'age_s': round_or_none(time.time() - st.st_mtime, 0),
        'rotated': sorted(p.name for p in path.parent.glob(path.name + '.*')),
    })
    tail = tail_lines(path, lines)
    counts = {'DEBUG': 0, 'INFO': 0, 'WARN': 0, 'ERROR': 0, 'FATAL': 0}
    problems = []
    resources: Dict[str, str] = {}
    for line in tail:
        match = _LOG_LEVEL_RE.match(line)
        level = match.group(1) if match else ''
        level = {'WARNING': 'WARN', 'CRITICAL': 'FATAL'}.get(level, level)
        if level:
            counts[level] += 1
        if level in ('WARN', 'ERROR', 'FATAL'):
            problems.append(line[:400])
        node = re.search(r'resource monitor: (node=\S+|system)', line)
        if node:
            resources[node.group(1).replace('node=', '')] = line[:400]
    data.update({'lines_read': len(tail), 'counts': counts,
                 'problem_lines_total': len(problems), 'problems': problems[-keep:],
                 'last_resource_lines': resources, 'last_line': tail[-1][:400] if tail else ''})
    return data
