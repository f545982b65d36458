# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Collect everything needed to understand a misbehaving tracker into two files.

``python -m face_tracker_ros.tools.diagnose [--output-dir DIR] [--ros-timeout S] [--log PATH]``
writes ``diagnosis_YYYYmmdd_HHMMSS.log`` (for people) and ``.json`` (the same
data, for tools) and prints both paths.  It works with or without ROS running,
never needs root and never hangs:

* every section (system, processes, camera, serial, fds, kernel, log, ros) runs
  in its own thread with its own timeout and a shared overall budget; a
  probe that fails or times out records why and the rest continue;
* every external command runs without a shell, in its own session, and is
  killed (with its children) when its timeout passes;
* the ROS graph is read by a short-lived rclpy node in a subprocess (this
  module's ``--ros-probe`` mode, the only place rclpy is imported), killed
  after ``--ros-timeout`` seconds, so a DDS problem cannot hang the tool.
"""

import argparse
from dataclasses import dataclass, field
import datetime
import glob
import grp
import json
import math
import os
from pathlib import Path
import platform
import pwd
import re
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import traceback
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import psutil

from face_tracker_ros.common.paths import default_log_dir
from face_tracker_ros.monitor.resources import sample_system

#: Overall time budget of the local probes plus the ROS probe (diagnose promises < 30 s).
BUDGET_S = 25.0
#: Default hard limit of the ROS graph probe subprocess.
DEFAULT_ROS_TIMEOUT_S = 10.0
MAX_ROS_TIMEOUT_S = 25.0
#: How many of the log file's last lines are searched for ERROR/WARN lines.
DEFAULT_LOG_LINES = 2000
MAX_LOG_LINES = 100000
LOG_NAME = 'face_tracker.log'

#: diagnostic_msgs/DiagnosticStatus levels.
LEVEL_NAMES = {0: 'OK', 1: 'WARN', 2: 'ERROR', 3: 'STALE'}
#: Default thresholds of the diagnostics node (README "Diagnostics"), used for findings.
RSS_WARN_MB, RSS_ERROR_MB = 400.0, 600.0
FDS_WARN, FDS_ERROR = 512, 900

#: Topics whose rate the ROS probe measures (matched as name suffixes, so namespaces work).
RATE_TOPICS = ('camera/image_raw', 'face/target', 'joint_states', 'diagnostics')
_PROBE_MARKER = 'FACE_TRACKER_DIAGNOSE_ROS '

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
_NODE_ARG_RE = re.compile(r'(?:^|:)__node:=([A-Za-z_][A-Za-z0-9_]*)$')


# --------------------------------------------------------------------------- helpers
def _now_iso() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec='seconds')


def _iso(epoch_s: Optional[float]) -> Optional[str]:
    if epoch_s is None or not math.isfinite(epoch_s):
        return None
    return datetime.datetime.fromtimestamp(epoch_s).astimezone().isoformat(timespec='seconds')


def _clean(value: Any) -> Any:
    """Return ``value`` with NaN/inf replaced by None and non-JSON types made strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _round(value: Optional[float], digits: int = 1) -> Optional[float]:
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return round(float(value), digits)


def run_command(argv: Sequence[str], timeout_s: float, max_chars: int = 400000) -> dict:
    """Run ``argv`` (no shell) with a hard timeout; never raises.

    The command runs in its own session with stdin closed and ``LC_ALL=C``;
    at the timeout the whole session is killed.  Returns ``argv``,
    ``returncode`` (None if it could not start or was killed), ``stdout``,
    ``stderr`` (text, cut to ``max_chars``), ``timed_out``, ``error`` (why it
    could not run, else '') and ``duration_s``.
    """
    result = {'argv': list(argv), 'returncode': None, 'stdout': '', 'stderr': '',
              'timed_out': False, 'error': '', 'duration_s': 0.0}
    env = dict(os.environ, LC_ALL='C', LANG='C')
    start = time.monotonic()
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True, env=env)
    except (OSError, ValueError) as exc:
        result['error'] = f'{type(exc).__name__}: {exc}'
        return result
    try:
        out, err = proc.communicate(timeout=max(0.1, timeout_s))
    except subprocess.TimeoutExpired:
        result['timed_out'] = True
        result['error'] = f'timed out after {timeout_s:.1f} s'
        _kill_session(proc)
        try:
            out, err = proc.communicate(timeout=2.0)
        except (subprocess.TimeoutExpired, OSError, ValueError):
            out, err = b'', b''
    except OSError as exc:
        _kill_session(proc)
        out, err = b'', b''
        result['error'] = f'{type(exc).__name__}: {exc}'
    result['returncode'] = None if result['timed_out'] else proc.returncode
    result['stdout'] = (out or b'').decode('utf-8', 'replace')[-max_chars:]
    result['stderr'] = (err or b'').decode('utf-8', 'replace')[-max_chars:]
    result['duration_s'] = round(time.monotonic() - start, 3)
    return result


def _kill_session(proc: subprocess.Popen) -> None:
    """Kill the process group of a child started with ``start_new_session``."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        try:
            proc.kill()
        except OSError:
            pass
    try:
        proc.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        pass


def _mode_info(path: str) -> dict:
    """Return type, permission string, owner, group and our access rights of ``path``."""
    info: Dict[str, Any] = {'path': path, 'exists': os.path.lexists(path)}
    try:
        st = os.stat(path)
    except OSError as exc:
        info['error'] = f'{type(exc).__name__}: {exc.strerror or exc}'
        return info
    info['realpath'] = os.path.realpath(path)
    info['char_device'] = stat.S_ISCHR(st.st_mode)
    info['mode'] = stat.filemode(st.st_mode)
    info['owner'] = _user_name(st.st_uid)
    info['group'] = _group_name(st.st_gid)
    info['readable'] = os.access(path, os.R_OK)
    info['writable'] = os.access(path, os.W_OK)
    return info


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def group_membership(group: str) -> dict:
    """Return whether the current user belongs to ``group`` (e.g. ``dialout``, ``video``).

    ``listed`` says the group database names the user (or it is the primary
    group); ``in_session`` says this login session already has the group (a
    user added after logging in needs to log in again).
    """
    euid = os.geteuid()
    user = _user_name(euid)
    info: Dict[str, Any] = {'group': group, 'user': user, 'root': euid == 0}
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        info['exists'] = False
        return info
    try:
        primary = pwd.getpwuid(euid).pw_gid
    except KeyError:
        primary = os.getegid()
    info.update({
        'exists': True, 'gid': entry.gr_gid,
        'listed': user in entry.gr_mem or primary == entry.gr_gid,
        'in_session': entry.gr_gid in os.getgroups() or os.getegid() == entry.gr_gid,
    })
    return info


def _links(directory: str) -> Dict[str, str]:
    """Return ``{link: resolved target}`` for every entry of a by-id/by-path directory."""
    result = {}
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return result
    for name in names:
        path = os.path.join(directory, name)
        result[path] = os.path.realpath(path)
    return result


def _read_text(path: str, limit: int = 65536) -> Optional[str]:
    try:
        with open(path, 'rb') as handle:
            return handle.read(limit).decode('utf-8', 'replace')
    except OSError:
        return None


def _proc_cmdline(pid: int) -> str:
    text = _read_text(f'/proc/{pid}/cmdline') or ''
    return text.replace('\x00', ' ').strip()[:300]


def device_holders(paths: Iterable[str], proc_root: str = '/proc') -> dict:
    """Return which processes hold each of ``paths`` open, from ``/proc/<pid>/fd`` links.

    psutil's open_files() skips device nodes, so the fd symlinks are read
    directly; processes whose fds cannot be read (another user's, without
    root) are counted in ``unreadable_processes`` and otherwise skipped.
    Returns ``{'holders': {path: [{pid, name, cmdline, fds}]},
    'unreadable_processes': n}``.
    """
    wanted: Dict[str, List[str]] = {}
    holders: Dict[str, List[dict]] = {}
    for path in paths:
        holders[path] = []
        for key in {path, os.path.realpath(path)}:
            wanted.setdefault(key, []).append(path)
    unreadable = 0
    try:
        entries = [e.name for e in os.scandir(proc_root) if e.name.isdigit()]
    except OSError:
        entries = []
    for name in entries:
        fd_dir = os.path.join(proc_root, name, 'fd')
        try:
            fds = os.listdir(fd_dir)
        except PermissionError:
            unreadable += 1
            continue
        except OSError:
            continue  # gone
        found: Dict[str, List[int]] = {}
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            for path in wanted.get(target, ()):
                found.setdefault(path, []).append(int(fd) if fd.isdigit() else -1)
        for path, fd_list in found.items():
            pid = int(name)
            comm = (_read_text(os.path.join(proc_root, name, 'comm')) or '').strip()
            holders[path].append({'pid': pid, 'name': comm, 'cmdline': _proc_cmdline(pid),
                                  'fds': sorted(set(fd_list))})
    return {'holders': holders, 'unreadable_processes': unreadable}


# --------------------------------------------------------------------- tracker processes
def _node_of(cmdline: Sequence[str]) -> str:
    for arg in cmdline:
        match = _NODE_ARG_RE.search(arg)
        if match:
            return match.group(1)
    return ''


def _role_of(cmdline: Sequence[str]) -> str:
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
    if _node_of(cmdline):
        return True
    return any('face_tracker_ros' in arg or os.path.basename(arg).startswith('face_tracker_')
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


def _safe(getter: Callable[[], Any], default: Any = None) -> Any:
    try:
        return getter()
    except (psutil.Error, OSError, AttributeError, ValueError):
        return default


def probe_processes(cpu_sample_s: float = 0.5) -> dict:
    """Describe the tracker's processes: pid, node, RSS, CPU, FDs, threads, state, uptime."""
    found = find_tracker_processes()
    for proc, _ in found:
        _safe(lambda p=proc: p.cpu_percent(interval=None))
    time.sleep(cpu_sample_s)
    rows = []
    now = time.time()
    for proc, cmdline in found:
        with_oneshot = _safe(proc.oneshot)
        if with_oneshot is None:
            continue
        with with_oneshot:
            state = _safe(proc.status, 'unknown')
            if not _safe(proc.is_running, False):
                continue  # exited since the scan
            memory = _safe(proc.memory_info)
            created = _safe(proc.create_time)
            rows.append({
                'pid': proc.pid,
                'ppid': _safe(proc.ppid),
                'node': _node_of(cmdline),
                'role': _role_of(cmdline),
                'name': _safe(proc.name, ''),
                'cmdline': ' '.join(cmdline)[:300],
                'user': _safe(proc.username, ''),
                'state': state,
                'zombie': state == psutil.STATUS_ZOMBIE,
                'rss_mb': _round(memory.rss / 1048576.0) if memory else None,
                # The anonymous part (heap, stacks): where a leak of the node's own shows.
                'anon_mb': _round((memory.rss - memory.shared) / 1048576.0)
                if memory and hasattr(memory, 'shared') else None,
                'vms_mb': _round(memory.vms / 1048576.0) if memory else None,
                'cpu_percent': _round(_safe(lambda p=proc: p.cpu_percent(interval=None))),
                'num_threads': _safe(proc.num_threads),
                'num_fds': _safe(proc.num_fds),
                'uptime_s': _round(now - created) if created else None,
                'started': _iso(created),
            })
    rows.sort(key=lambda r: (r['node'] == '', r['node'], r['pid']))
    return {'count': len(rows), 'cpu_sample_s': cpu_sample_s, 'processes': rows,
            'match': 'command lines with __node:=<name> or naming face_tracker_ros'}


# ---------------------------------------------------------------------------- sections
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
        disks.append({'path': path, 'free_mb': _round(sample.disk_free_mb, 0),
                      'free_percent': _round(sample.disk_free_percent)})
    sample = sample_system('/')
    memory = _safe(psutil.virtual_memory)
    swap = _safe(psutil.swap_memory)
    boot = _safe(psutil.boot_time)
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
        'boot_time': _iso(boot),
        'uptime_s': _round(time.time() - boot, 0) if boot else None,
        'cpu_count': psutil.cpu_count(),
        'cpu_percent': _round(sum(per_core) / len(per_core)) if per_core else None,
        'cpu_percent_per_core': [_round(v) for v in per_core],
        'load': [_round(sample.load_1m, 2), _round(sample.load_5m, 2),
                 _round(sample.load_15m, 2)],
        'mem_total_mb': _round(memory.total / 1048576.0, 0) if memory else None,
        'mem_used_percent': _round(sample.mem_used_percent),
        'mem_available_mb': _round(sample.mem_available_mb, 0),
        'swap_total_mb': _round(swap.total / 1048576.0, 0) if swap else None,
        'swap_used_percent': _round(sample.swap_used_percent),
        'cpu_temp_c': _round(sample.cpu_temp_c),
        'disks': disks,
        'user': {'name': _user_name(euid), 'uid': euid,
                 'groups': sorted({_group_name(g) for g in os.getgroups()})},
        'environment': {key: os.environ.get(key) for key in env_keys},
    }


def _v4l2_summary(text: str) -> dict:
    wanted = ('Driver name', 'Card type', 'Bus info', 'Width/Height', 'Pixel Format',
              'Frames per second')
    summary = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(':')
        if sep and key.strip() in wanted and key.strip() not in summary:
            summary[key.strip()] = value.strip()
    return summary


def probe_camera(command_timeout_s: float = 3.0, max_queried: int = 8) -> dict:
    """Describe the V4L2 devices: nodes, by-id links, permissions, holders, capabilities."""
    devices = sorted(glob.glob('/dev/video*'),
                     key=lambda p: (len(p), p))
    by_id = _links('/dev/v4l/by-id')
    by_path = _links('/dev/v4l/by-path')
    v4l2_ctl = shutil.which('v4l2-ctl')
    holders = device_holders(devices)
    rows = []
    for index, path in enumerate(devices):
        row = _mode_info(path)
        sys_name = _read_text(f'/sys/class/video4linux/{os.path.basename(path)}/name')
        row['name'] = sys_name.strip() if sys_name else None
        row['by_id'] = [link for link, target in by_id.items() if target == row.get('realpath')]
        row['holders'] = holders['holders'].get(path, [])
        if v4l2_ctl and index < max_queried:
            result = run_command([v4l2_ctl, '-d', path, '--all'], command_timeout_s)
            output = result['stdout'] or result['stderr']
            row['v4l2'] = {'returncode': result['returncode'], 'error': result['error'],
                           'summary': _v4l2_summary(result['stdout']),
                           'output': output.splitlines()[:80]}
        rows.append(row)
    return {
        'devices': rows,
        'by_id': by_id,
        'by_path': by_path,
        'v4l2_ctl': v4l2_ctl,
        'video_group': group_membership('video'),
        'unreadable_processes': holders['unreadable_processes'],
        'note': '' if devices else 'no /dev/video* device (normal for the simulation)',
    }


def probe_serial() -> dict:
    """Describe the serial ports: pyserial's list, by-id links, permissions, holders, dialout."""
    ports = []
    list_error = ''
    try:
        from serial.tools import list_ports
        listed = list(list_ports.comports())
    except Exception as exc:  # noqa: BLE001 - a broken pyserial must not end the tool
        listed = []
        list_error = f'{type(exc).__name__}: {exc}'
    by_id = _links('/dev/serial/by-id')
    by_path = _links('/dev/serial/by-path')
    paths = [info.device for info in listed]
    # USB serial devices pyserial did not list (it failed, or sysfs is not readable).
    extra = [p for p in sorted(glob.glob('/dev/ttyUSB*') + glob.glob('/dev/ttyACM*'))
             if p not in paths]
    paths += extra
    sim_link = _sim_port()
    holder_paths = list(paths)
    if sim_link.get('exists'):
        holder_paths.append(sim_link['path'])
    holders = device_holders(holder_paths)
    for info in listed:
        row = _mode_info(info.device)
        for key in ('description', 'hwid', 'manufacturer', 'product', 'serial_number',
                    'location', 'interface'):
            row[key] = getattr(info, key, None)
        row['vid'] = f'{info.vid:04x}' if getattr(info, 'vid', None) is not None else None
        row['pid'] = f'{info.pid:04x}' if getattr(info, 'pid', None) is not None else None
        row['by_id'] = [link for link, target in by_id.items() if target == row.get('realpath')]
        row['holders'] = holders['holders'].get(info.device, [])
        ports.append(row)
    for path in extra:
        row = _mode_info(path)
        row['description'] = 'not listed by pyserial'
        row['holders'] = holders['holders'].get(path, [])
        ports.append(row)
    if sim_link.get('exists'):
        sim_link['holders'] = holders['holders'].get(sim_link['path'], [])
    return {
        'ports': ports,
        'list_error': list_error,
        'by_id': by_id,
        'by_path': by_path,
        'dialout_group': group_membership('dialout'),
        'sim_port': sim_link,
        'unreadable_processes': holders['unreadable_processes'],
        'note': '' if ports else 'no serial port found by pyserial (normal for the simulation)',
    }


def _sim_port() -> dict:
    try:
        from face_tracker_ros.common.paths import runtime_dir
        path = str(runtime_dir() / 'sim_servo')
    except Exception as exc:  # noqa: BLE001 - informational only
        return {'error': str(exc)}
    info = {'path': path, 'exists': os.path.lexists(path)}
    if info['exists']:
        info['target'] = os.path.realpath(path)
        info['target_exists'] = os.path.exists(path)
    return info


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
    text = _read_text('/proc/sys/fs/file-nr')
    if text and len(text.split()) == 3:
        allocated, unused, maximum = (int(v) for v in text.split())
        system = {'allocated': allocated, 'unused': unused, 'max': maximum,
                  'used_percent': _round(100.0 * allocated / maximum, 2) if maximum else None}
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    tracker = []
    for proc, cmdline in find_tracker_processes():
        limits = _safe(lambda p=proc: p.rlimit(psutil.RLIMIT_NOFILE))
        count = _safe(proc.num_fds)
        row = {'pid': proc.pid, 'node': _node_of(cmdline), 'role': _role_of(cmdline),
               'num_fds': count, 'limit_soft': limits[0] if limits else None,
               'limit_hard': limits[1] if limits else None,
               'by_kind': _fd_breakdown(proc.pid)}
        if count is not None and limits and limits[0] > 0:
            row['percent_of_limit'] = _round(100.0 * count / limits[0])
        tracker.append(row)
    users = []
    unreadable = 0
    for proc in psutil.process_iter():
        count = _safe(proc.num_fds)
        if count is None:
            unreadable += 1
            continue
        users.append({'pid': proc.pid, 'name': _safe(proc.name, ''), 'num_fds': count})
    users.sort(key=lambda r: -r['num_fds'])
    return {'system': system, 'nr_open': _int_or_none(_read_text('/proc/sys/fs/nr_open')),
            'own_limit': {'soft': soft, 'hard': hard}, 'tracker': tracker,
            'top': users[:top_n], 'unreadable_processes': unreadable}


def _int_or_none(text: Optional[str]) -> Optional[int]:
    try:
        return int((text or '').strip())
    except ValueError:
        return None


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
        'dmesg_restrict': (_read_text('/proc/sys/kernel/dmesg_restrict') or '').strip() or None,
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
                  Path.home() / '.ros' / 'log' / 'face_tracker_ros' / LOG_NAME]
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
        'path': str(path), 'size_mb': _round(st.st_size / 1048576.0, 2),
        'modified': _iso(st.st_mtime), 'age_s': _round(time.time() - st.st_mtime, 0),
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


# ------------------------------------------------------------------------- ROS probe
def _ros_probe_child(discovery_s: float, window_s: float) -> int:
    """Run inside the probe subprocess: read the ROS graph and print JSON lines."""
    def emit(payload: dict) -> None:
        sys.stdout.write(_PROBE_MARKER + json.dumps(_clean(payload)) + '\n')
        sys.stdout.flush()

    env = {key: os.environ.get(key) for key in ('ROS_DOMAIN_ID', 'RMW_IMPLEMENTATION',
                                                'ROS_DISTRO', 'ROS_AUTOMATIC_DISCOVERY_RANGE')}
    try:
        import rclpy
        from rclpy.qos import (
            DurabilityPolicy,
            HistoryPolicy,
            qos_profile_sensor_data,
            QoSProfile,
            ReliabilityPolicy,
        )
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        emit({'rclpy': False, 'error': f'rclpy not importable: {type(exc).__name__}: {exc}',
              'environment': env, 'phase': 'complete'})
        return 0
    context = rclpy.Context()
    rclpy.init(context=context, args=[])
    name = f'face_tracker_diagnose_{os.getpid()}'
    node = rclpy.create_node(name, context=context, enable_rosout=False,
                             start_parameter_services=False)
    from rclpy.executors import SingleThreadedExecutor
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)

    def spin_for(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=min(0.05, max(0.0, end - time.monotonic())))

    def graph() -> Tuple[List[str], List[dict]]:
        nodes = sorted((ns.rstrip('/') + '/' + n) for n, ns in
                       node.get_node_names_and_namespaces() if n != name)
        topics = []
        for topic, types in sorted(node.get_topic_names_and_types()):
            topics.append({'name': topic, 'types': list(types),
                           'publishers': node.count_publishers(topic),
                           'subscribers': node.count_subscribers(topic)})
        return nodes, topics

    # Discovery: wait until the node list is non-empty and stable, or the time is up.  A
    # quiet participant may only be seen at its next announcement (Fast DDS: every 3 s).
    end = time.monotonic() + discovery_s
    last, stable_since = None, time.monotonic()
    while time.monotonic() < end:
        spin_for(0.1)
        current = sorted(n for n, _ in node.get_node_names_and_namespaces() if n != name)
        if current != last:
            last, stable_since = current, time.monotonic()
        elif current and time.monotonic() - stable_since > 1.0:
            break
    nodes, topics = graph()
    payload = {'rclpy': True, 'environment': env, 'probe_node': '/' + name,
               'nodes': nodes, 'topics': topics, 'up': bool(nodes), 'phase': 'graph'}
    emit(payload)

    known = {
        'sensor_msgs/msg/Image': ('sensor_msgs.msg', 'Image'),
        'geometry_msgs/msg/PointStamped': ('geometry_msgs.msg', 'PointStamped'),
        'sensor_msgs/msg/JointState': ('sensor_msgs.msg', 'JointState'),
        'diagnostic_msgs/msg/DiagnosticArray': ('diagnostic_msgs.msg', 'DiagnosticArray'),
    }
    arrivals: Dict[str, List[float]] = {}
    statuses: Dict[str, dict] = {}
    rates: Dict[str, dict] = {}
    reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE,
                          durability=DurabilityPolicy.VOLATILE,
                          history=HistoryPolicy.KEEP_LAST)

    def on_diagnostics(stamps: List[float], msg) -> None:
        stamps.append(time.monotonic())
        for status in msg.status:
            level = status.level
            level = level[0] if isinstance(level, (bytes, bytearray)) and level else level
            statuses[status.name] = {
                'name': status.name, 'level': int(level) if isinstance(level, int) else None,
                'level_name': LEVEL_NAMES.get(level, str(level)), 'message': status.message,
                'hardware_id': status.hardware_id, 'received': time.time(),
                'values': {kv.key: kv.value for kv in status.values}}

    def subscribe(info: dict) -> None:
        """Start measuring one topic of RATE_TOPICS (at most 8 topics)."""
        topic = info['name']
        if topic in rates or len(rates) >= 8:
            return
        if not any(topic == '/' + s or topic.endswith('/' + s) for s in RATE_TOPICS):
            return
        msg_type = next((t for t in info['types'] if t in known), None)
        entry = {'type': ', '.join(info['types']), 'publishers': info['publishers'],
                 'messages': 0, 'rate_hz': None, 'since': time.monotonic()}
        rates[topic] = entry
        if msg_type is None:
            entry['note'] = 'type not measured'
            return
        module, cls = known[msg_type]
        stamps: List[float] = []
        try:
            msg_cls = getattr(__import__(module, fromlist=[cls]), cls)
            if cls == 'DiagnosticArray':
                node.create_subscription(msg_cls, topic,
                                         lambda m, s=stamps: on_diagnostics(s, m), reliable)
            else:
                qos = qos_profile_sensor_data if cls == 'Image' else reliable
                node.create_subscription(msg_cls, topic,
                                         lambda _m, s=stamps: s.append(time.monotonic()),
                                         qos, raw=True)
            arrivals[topic] = stamps
        except Exception as exc:  # noqa: BLE001 - one topic must not stop the probe
            entry['note'] = f'not measured: {type(exc).__name__}: {exc}'

    # Measure for window_s; topics discovered meanwhile are measured from then on.
    end = time.monotonic() + window_s
    while True:
        for info in topics:
            subscribe(info)
        if time.monotonic() >= end:
            break
        spin_for(min(0.25, max(0.0, end - time.monotonic())))
        if time.monotonic() < end:
            _, topics = graph()
    finished = time.monotonic()
    for topic, entry in rates.items():
        stamps = arrivals.get(topic, [])
        entry['window_s'] = round(finished - entry.pop('since'), 2)
        if topic not in arrivals:
            continue
        entry['messages'] = len(stamps)
        if len(stamps) >= 2 and stamps[-1] > stamps[0]:
            entry['rate_hz'] = round((len(stamps) - 1) / (stamps[-1] - stamps[0]), 2)
        else:
            entry['rate_hz'] = 0.0
    # Nodes and topics found during the measurement too (discovery can take seconds).
    nodes, topics = graph()
    payload.update({'nodes': nodes, 'topics': topics, 'up': bool(nodes)})
    now = time.time()
    diagnostics = []
    for status in sorted(statuses.values(), key=lambda s: s['name']):
        status['age_s'] = round(now - status.pop('received'), 2)
        diagnostics.append(status)
    payload.update({'rates': rates, 'diagnostics': diagnostics, 'phase': 'complete'})
    emit(payload)
    executor.shutdown(timeout_sec=0.5)
    node.destroy_node()
    rclpy.shutdown(context=context)
    return 0


def probe_ros_graph(timeout_s: float) -> dict:
    """Read the ROS graph through the probe subprocess, killed after ``timeout_s``."""
    budget = max(0.5, timeout_s - 2.5)  # start-up of Python and rclpy takes about 1-2 s
    discovery = round(min(3.5, max(0.3, budget * 0.45)), 2)
    window = round(min(2.0, max(0.3, budget * 0.4)), 2)
    env = dict(os.environ)
    checkout = str(Path(__file__).resolve().parents[2])
    env['PYTHONPATH'] = checkout + (os.pathsep + env['PYTHONPATH']
                                    if env.get('PYTHONPATH') else '')
    profile_applied = ''
    if not env.get('FASTDDS_DEFAULT_PROFILES_FILE'):
        try:
            from face_tracker_ros.common.paths import share_dir
            profile = share_dir() / 'config' / 'fastdds.xml'
            if profile.is_file():
                env['FASTDDS_DEFAULT_PROFILES_FILE'] = profile_applied = str(profile)
        except Exception:  # noqa: BLE001 - the profile only helps large images through
            pass
    argv = [sys.executable, '-m', 'face_tracker_ros.tools.diagnose', '--ros-probe',
            f'{discovery},{window}']
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True, env=env)
    except OSError as exc:
        return {'up': False, 'error': f'could not start the probe: {exc}'}
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_session(proc)
        try:
            out, err = proc.communicate(timeout=2.0)
        except (subprocess.TimeoutExpired, OSError, ValueError):
            out, err = b'', b''
    payload = None
    for line in (out or b'').decode('utf-8', 'replace').splitlines():
        if line.startswith(_PROBE_MARKER):
            try:
                payload = json.loads(line[len(_PROBE_MARKER):])
            except ValueError:
                continue
    stderr_tail = (err or b'').decode('utf-8', 'replace').strip().splitlines()[-15:]
    probe = {'argv': argv, 'timeout_s': timeout_s, 'discovery_s': discovery,
             'window_s': window, 'timed_out': timed_out,
             'returncode': None if timed_out else proc.returncode,
             'duration_s': round(time.monotonic() - start, 2), 'stderr_tail': stderr_tail,
             'fastdds_profile_applied': profile_applied or None}
    if payload is None:
        reason = (f'no answer within {timeout_s:.1f} s (DDS discovery hung or rclpy start-up '
                  'too slow)' if timed_out else
                  f'probe exited {proc.returncode} without an answer')
        return {'up': False, 'error': reason, 'probe': probe}
    payload['probe'] = probe
    if payload.get('phase') != 'complete':
        payload['partial'] = True
        payload['error'] = (f'rates and /diagnostics not measured within {timeout_s:.1f} s; '
                            'graph only')
    return payload


# -------------------------------------------------------------------- section running
@dataclass
class SectionResult:
    """The outcome of one probe: ``status`` is ok, error, timeout or skipped."""

    name: str
    title: str
    status: str
    duration_s: float
    data: dict = field(default_factory=dict)
    error: str = ''

    def as_dict(self) -> dict:
        """Return the JSON form of this section."""
        return {'title': self.title, 'status': self.status, 'duration_s': self.duration_s,
                'error': self.error or None, 'data': self.data}


class ProbeRun:
    """One probe running in a daemon thread, so a hung probe can be abandoned."""

    def __init__(self, name: str, title: str, probe: Callable[[], dict]):
        """Prepare (not start) the probe."""
        self.name = name
        self.title = title
        self._probe = probe
        self._box: Dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, name=f'diagnose-{name}',
                                        daemon=True)
        self._start = 0.0

    def _run(self) -> None:
        try:
            self._box['data'] = self._probe()
        except BaseException as exc:  # noqa: BLE001 - every failure becomes the section's error
            self._box['error'] = f'{type(exc).__name__}: {exc}'
            self._box['traceback'] = traceback.format_exc(limit=6).splitlines()

    def start(self) -> 'ProbeRun':
        """Start the probe's thread."""
        self._start = time.monotonic()
        self._thread.start()
        return self

    def result(self, timeout_s: float) -> SectionResult:
        """Wait up to ``timeout_s`` for the probe; a probe still running is a timeout."""
        self._thread.join(max(0.0, timeout_s))
        elapsed = round(time.monotonic() - self._start, 2)
        if self._thread.is_alive():
            return SectionResult(self.name, self.title, 'timeout', elapsed,
                                 error=f'probe did not finish within {elapsed:.1f} s')
        if 'error' in self._box:
            return SectionResult(self.name, self.title, 'error', elapsed,
                                 data={'traceback': self._box.get('traceback', [])},
                                 error=self._box['error'])
        data = self._box.get('data')
        if not isinstance(data, dict):
            data = {'value': data}
        return SectionResult(self.name, self.title, 'ok', elapsed, data=data)


def run_probe(name: str, probe: Callable[[], dict], timeout_s: float,
              title: str = '') -> SectionResult:
    """Run ``probe`` with a timeout; its exceptions and hangs become the result's error."""
    return ProbeRun(name, title or name, probe).start().result(timeout_s)


# ------------------------------------------------------------------------- findings
def _finding(level: str, section: str, text: str) -> dict:
    return {'level': level, 'section': section, 'text': text}


def findings(sections: Dict[str, SectionResult]) -> List[dict]:
    """Return the notable problems in the sections, worst first (ERROR, WARN, INFO)."""
    out: List[dict] = []
    for name, result in sections.items():
        if result.status in ('error', 'timeout'):
            out.append(_finding('WARN', name, f'probe {result.status}: {result.error}'))
        elif result.status == 'skipped':
            out.append(_finding('INFO', name, f'skipped: {result.error}'))
    data = {name: result.data for name, result in sections.items() if result.status == 'ok'}

    system = data.get('system')
    if system:
        mem = system.get('mem_used_percent')
        if mem is not None and mem >= 90:
            out.append(_finding('WARN', 'system', f'memory {mem:.0f}% used'))
        for disk in system.get('disks', []):
            free = disk.get('free_percent')
            if free is not None and free < 10:
                out.append(_finding('WARN', 'system',
                                    f"disk {disk['path']} only {free:.0f}% free"))
        load, cores = (system.get('load') or [None])[0], system.get('cpu_count') or 1
        if load is not None and load > 1.5 * cores:
            out.append(_finding('WARN', 'system', f'load {load:.2f} on {cores} cores'))

    tracker_pids = set()
    procs = data.get('processes')
    if procs is not None:
        rows = procs.get('processes', [])
        tracker_pids = {r['pid'] for r in rows}
        if not rows:
            out.append(_finding('WARN', 'processes', 'no tracker process is running'))
        for r in rows:
            who = f"{r.get('node') or r.get('role')} (pid {r['pid']})"
            if r.get('zombie'):
                out.append(_finding('ERROR', 'processes', f'{who} is a zombie'))
            rss = r.get('rss_mb')
            if rss is not None and rss >= RSS_WARN_MB:
                level = 'ERROR' if rss >= RSS_ERROR_MB else 'WARN'
                out.append(_finding(level, 'processes', f'{who} uses {rss:.0f} MB RSS'))
            fds = r.get('num_fds')
            if fds is not None and fds >= FDS_WARN:
                level = 'ERROR' if fds >= FDS_ERROR else 'WARN'
                out.append(_finding(level, 'processes', f'{who} has {fds} open fds'))

    camera = data.get('camera')
    if camera is not None:
        if not camera.get('devices'):
            out.append(_finding('INFO', 'camera', camera.get('note') or 'no camera device'))
        for dev in camera.get('devices', []):
            out.extend(_device_findings('camera', dev, tracker_pids))
        out.extend(_group_findings('camera', camera.get('video_group'),
                                   bool(camera.get('devices'))))

    serial = data.get('serial')
    if serial is not None:
        if not serial.get('ports'):
            out.append(_finding('INFO', 'serial', serial.get('note') or 'no serial port'))
        for port in serial.get('ports', []):
            out.extend(_device_findings('serial', port, tracker_pids))
        out.extend(_group_findings('serial', serial.get('dialout_group'),
                                   bool(serial.get('ports'))))

    fds = data.get('fds')
    if fds and fds.get('system', {}).get('used_percent') is not None:
        used = fds['system']['used_percent']
        if used >= 80:
            out.append(_finding('WARN', 'fds', f'system file table {used:.0f}% used'))

    kernel = data.get('kernel')
    if kernel is not None:
        if not kernel.get('readable'):
            out.append(_finding('INFO', 'kernel', kernel.get('reason', 'not readable')))
        else:
            counts = kernel.get('counts', {})
            if counts.get('oom'):
                out.append(_finding('ERROR', 'kernel',
                                    f"{counts['oom']} out-of-memory kernel lines (OOM kills)"))
            if counts.get('usb_disconnect'):
                out.append(_finding('WARN', 'kernel',
                                    f"{counts['usb_disconnect']} USB disconnect lines"))
            if counts.get('usb_error'):
                out.append(_finding('WARN', 'kernel', f"{counts['usb_error']} USB error lines"))

    log = data.get('log')
    if log is not None:
        if not log.get('found'):
            out.append(_finding('INFO', 'log', log.get('note', 'log file not found')))
        else:
            counts = log.get('counts', {})
            bad = counts.get('ERROR', 0) + counts.get('FATAL', 0)
            if bad:
                last = next((line for line in reversed(log.get('problems', []))
                             if re.search(r'\s(ERROR|FATAL)\s', line)), '')
                out.append(_finding('WARN', 'log', f'{bad} ERROR/FATAL lines in the last '
                                    f"{log.get('lines_read')}; last: {last[:160]}"))
            age = log.get('age_s')
            if age is not None and age > 600 and tracker_pids:
                out.append(_finding('WARN', 'log', f'log not written for {age:.0f} s while '
                                    'tracker processes run'))

    ros = data.get('ros')
    if ros is not None:
        out.extend(_ros_findings(ros))
    order = {'ERROR': 0, 'WARN': 1, 'INFO': 2}
    out.sort(key=lambda f: order.get(f['level'], 3))
    return out


def _device_findings(section: str, dev: dict, tracker_pids: set) -> List[dict]:
    out = []
    path = dev.get('path')
    if dev.get('exists') and dev.get('error'):
        out.append(_finding('WARN', section, f"{path}: {dev['error']}"))
    elif dev.get('readable') is False or dev.get('writable') is False:
        out.append(_finding('WARN', section, f'{path} not readable/writable by this user '
                            f"({dev.get('mode')} {dev.get('owner')}:{dev.get('group')})"))
    holders = dev.get('holders') or []
    others = [h for h in holders if h['pid'] not in tracker_pids]
    if others:
        names = ', '.join(f"{h['name']} (pid {h['pid']})" for h in others)
        out.append(_finding('WARN', section, f'{path} is held by {names}'))
    if len(holders) > 1:
        out.append(_finding('WARN', section, f'{path} is open in {len(holders)} processes'))
    return out


def _group_findings(section: str, group: Optional[dict], needed: bool) -> List[dict]:
    if not group or group.get('root') or not needed:
        return []
    name = group.get('group')
    if not group.get('exists'):
        return [_finding('INFO', section, f'group {name} does not exist on this system')]
    if not group.get('listed'):
        return [_finding('WARN', section, f"user {group.get('user')} is not in group {name}: "
                         f'sudo usermod -aG {name} $USER, then log in again')]
    if not group.get('in_session'):
        return [_finding('WARN', section, f'user is in group {name} but this session is not: '
                         'log out and in again')]
    return []


def _ros_findings(ros: dict) -> List[dict]:
    out = []
    if ros.get('rclpy') is False:
        return [_finding('INFO', 'ros', ros.get('error', 'rclpy not available'))]
    if ros.get('error') and not ros.get('nodes'):
        return [_finding('WARN', 'ros', ros['error'])]
    if ros.get('error'):
        out.append(_finding('WARN', 'ros', ros['error']))
    if not ros.get('up'):
        domain = (ros.get('environment') or {}).get('ROS_DOMAIN_ID') or '0'
        out.append(_finding('INFO', 'ros', f'no ROS node seen on domain {domain}'))
        return out
    for topic, rate in (ros.get('rates') or {}).items():
        if rate.get('publishers') and rate.get('rate_hz') == 0.0 and 'note' not in rate:
            out.append(_finding('WARN', 'ros', f'{topic} has {rate["publishers"]} publisher(s) '
                                f'but no message arrived in {rate.get("window_s")} s'))
    for status in ros.get('diagnostics') or []:
        level = status.get('level_name')
        if level in ('ERROR', 'WARN', 'STALE'):
            out.append(_finding('ERROR' if level == 'ERROR' else 'WARN', 'ros',
                                f"/diagnostics {status['name']}: {level} {status['message']}"))
    return out


# ------------------------------------------------------------------------ rendering
def _fmt(value: Any) -> str:
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:g}'
    if isinstance(value, (list, tuple)):
        return ', '.join(_fmt(v) for v in value) or '-'
    return str(value)


def _kv(data: dict, keys: Sequence[str], indent: str = '  ') -> List[str]:
    width = max((len(k) for k in keys), default=0)
    return [f'{indent}{k.ljust(width)} : {_fmt(data.get(k))}' for k in keys if k in data]


def _table(rows: List[dict], columns: Sequence[Tuple[str, str]], indent: str = '  ') -> List[str]:
    if not rows:
        return [f'{indent}(none)']
    cells = [[_fmt(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(title), *(len(c[i]) for c in cells)) for i, (_, title) in
              enumerate(columns)]
    lines = [indent + '  '.join(t.ljust(w) for (_, t), w in zip(columns, widths))]
    lines.append(indent + '  '.join('-' * w for w in widths))
    lines += [indent + '  '.join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    return lines


def _holder_lines(holders: List[dict], indent: str = '      ') -> List[str]:
    if not holders:
        return [f'{indent}held by: nobody']
    return [f"{indent}held by: pid {h['pid']} {h['name']}  {h['cmdline'][:120]}"
            for h in holders]


def _render_system(d: dict) -> List[str]:
    lines = _kv(d, ('hostname', 'os', 'kernel', 'machine', 'python', 'boot_time', 'uptime_s',
                    'cpu_count', 'cpu_percent', 'cpu_percent_per_core', 'load',
                    'mem_total_mb', 'mem_used_percent', 'mem_available_mb', 'swap_total_mb',
                    'swap_used_percent', 'cpu_temp_c'))
    lines.append('  disks:')
    lines += _table(d.get('disks', []), (('path', 'path'), ('free_mb', 'free MB'),
                                         ('free_percent', 'free %')), indent='    ')
    user = d.get('user', {})
    lines.append(f"  user : {user.get('name')} (uid {user.get('uid')}), groups "
                 f"{_fmt(user.get('groups'))}")
    lines.append('  environment:')
    lines += [f'    {k}={v}' for k, v in d.get('environment', {}).items() if v is not None]
    return lines


def _render_processes(d: dict) -> List[str]:
    lines = [f"  {d.get('count', 0)} tracker process(es); CPU over {d.get('cpu_sample_s')} s"]
    lines += _table(d.get('processes', []), (
        ('pid', 'pid'), ('node', 'node'), ('role', 'role'), ('state', 'state'),
        ('rss_mb', 'RSS MB'), ('anon_mb', 'anon MB'), ('cpu_percent', 'CPU %'),
        ('num_fds', 'fds'),
        ('num_threads', 'threads'), ('uptime_s', 'uptime s'), ('started', 'started')))
    for row in d.get('processes', []):
        lines.append(f"    {row['pid']}: {row['cmdline']}")
    return lines


def _render_camera(d: dict) -> List[str]:
    lines = []
    if d.get('note'):
        lines.append(f"  {d['note']}")
    for dev in d.get('devices', []):
        lines.append(f"  {dev['path']}  {dev.get('name') or ''}")
        lines += _kv(dev, ('realpath', 'mode', 'owner', 'group', 'readable', 'writable',
                           'by_id', 'error'), indent='      ')
        lines += _holder_lines(dev.get('holders', []))
        v4l2 = dev.get('v4l2')
        if v4l2:
            for key, value in v4l2.get('summary', {}).items():
                lines.append(f'      v4l2 {key}: {value}')
            if v4l2.get('error') or v4l2.get('returncode'):
                lines.append(f"      v4l2-ctl: {v4l2.get('error') or ''} "
                             f"exit {v4l2.get('returncode')}")
    lines.append(f"  v4l2-ctl : {d.get('v4l2_ctl') or 'not installed (apt install v4l-utils)'}")
    lines += _links_lines('by-id links', d.get('by_id', {}))
    lines += _group_lines(d.get('video_group'))
    return lines


def _render_serial(d: dict) -> List[str]:
    lines = []
    if d.get('note'):
        lines.append(f"  {d['note']}")
    if d.get('list_error'):
        lines.append(f"  pyserial list failed: {d['list_error']}")
    for port in d.get('ports', []):
        lines.append(f"  {port['path']}  {port.get('description') or ''}")
        lines += _kv(port, ('hwid', 'vid', 'pid', 'manufacturer', 'product', 'serial_number',
                            'mode', 'owner', 'group', 'readable', 'writable', 'by_id',
                            'error'), indent='      ')
        lines += _holder_lines(port.get('holders', []))
    lines += _links_lines('by-id links', d.get('by_id', {}))
    sim = d.get('sim_port') or {}
    if sim.get('exists'):
        lines.append(f"  simulated controller link: {sim['path']} -> {sim.get('target')}")
        lines += _holder_lines(sim.get('holders', []))
    else:
        lines.append(f"  simulated controller link: {sim.get('path')} (absent)")
    lines += _group_lines(d.get('dialout_group'))
    return lines


def _links_lines(title: str, links: Dict[str, str]) -> List[str]:
    if not links:
        return [f'  {title}: none']
    return [f'  {title}:'] + [f'    {link} -> {target}' for link, target in links.items()]


def _group_lines(group: Optional[dict]) -> List[str]:
    if not group:
        return []
    if not group.get('exists'):
        return [f"  group {group.get('group')}: does not exist"]
    return [f"  group {group['group']}: user {group['user']} listed={group.get('listed')} "
            f"in this session={group.get('in_session')} root={group.get('root')}"]


def _render_fds(d: dict) -> List[str]:
    system = d.get('system', {})
    lines = [f"  system file table: {_fmt(system.get('allocated'))} of {_fmt(system.get('max'))}"
             f" ({_fmt(system.get('used_percent'))}%); nr_open {_fmt(d.get('nr_open'))}",
             f"  this tool's limit: {d.get('own_limit', {}).get('soft')} soft / "
             f"{d.get('own_limit', {}).get('hard')} hard"]
    lines.append('  tracker processes:')
    rows = [dict(r, kinds=' '.join(f'{k}={v}' for k, v in
                                   sorted((r.get('by_kind') or {}).items())))
            for r in d.get('tracker', [])]
    lines += _table(rows, (('pid', 'pid'), ('node', 'node'), ('num_fds', 'fds'),
                           ('limit_soft', 'limit'), ('percent_of_limit', '% of limit'),
                           ('kinds', 'by kind')), indent='    ')
    lines.append(f"  top fd users ({d.get('unreadable_processes', 0)} processes not readable):")
    lines += _table(d.get('top', []), (('pid', 'pid'), ('name', 'name'), ('num_fds', 'fds')),
                    indent='    ')
    return lines


def _render_kernel(d: dict) -> List[str]:
    lines = [f"  kernel.dmesg_restrict = {_fmt(d.get('dmesg_restrict'))}"]
    for attempt in d.get('attempts', []):
        lines.append(f"  tried {' '.join(attempt['argv'])}: exit {_fmt(attempt.get('returncode'))}"
                     f"{' - ' + attempt['error'] if attempt.get('error') else ''}")
    if not d.get('readable'):
        lines.append(f"  NOT READABLE: {d.get('reason')}")
        return lines
    lines.append(f"  read {d.get('lines_scanned')} lines from {d.get('source')}")
    for name, count in d.get('counts', {}).items():
        lines.append(f'  {name}: {count} line(s)')
        lines += [f'      {line}' for line in d.get('matches', {}).get(name, [])[-10:]]
    return lines


def _render_log(d: dict) -> List[str]:
    if not d.get('found'):
        return [f"  {d.get('note')}", f"  searched: {_fmt(d.get('searched'))}"]
    lines = _kv(d, ('path', 'size_mb', 'modified', 'age_s', 'rotated', 'lines_read'))
    counts = d.get('counts', {})
    lines.append('  levels in the lines read: ' + ', '.join(f'{k} {v}' for k, v in
                                                            counts.items()))
    lines.append(f"  WARN/ERROR/FATAL lines ({d.get('problem_lines_total')}, last "
                 f"{len(d.get('problems', []))}):")
    lines += [f'    {line}' for line in d.get('problems', [])]
    if d.get('last_resource_lines'):
        lines.append('  latest resource monitor lines:')
        lines += [f'    {line}' for line in d['last_resource_lines'].values()]
    lines.append(f"  last line: {d.get('last_line')}")
    return lines


def _render_ros(d: dict) -> List[str]:
    lines = []
    env = {k: v for k, v in (d.get('environment') or {}).items() if v is not None}
    if 'ROS_DOMAIN_ID' not in env:
        env['ROS_DOMAIN_ID'] = '(unset: 0)'
    lines.append('  ' + '  '.join(f'{k}={v}' for k, v in env.items()))
    if d.get('error'):
        lines.append(f"  {d['error']}")
    probe = d.get('probe') or {}
    if probe:
        lines.append(f"  probe: {probe.get('duration_s')} s, exit {_fmt(probe.get('returncode'))}"
                     f", timed out {probe.get('timed_out')}")
        if not d.get('nodes') and probe.get('stderr_tail'):
            lines += [f'    {line}' for line in probe['stderr_tail']]
    if d.get('rclpy') is False:
        return lines
    nodes = d.get('nodes') or []
    lines.append(f'  nodes ({len(nodes)}): ' + (', '.join(nodes) or 'none'))
    lines.append('  topics:')
    lines += _table([dict(t, types=', '.join(t['types'])) for t in d.get('topics') or []],
                    (('name', 'topic'), ('types', 'type'), ('publishers', 'pubs'),
                     ('subscribers', 'subs')), indent='    ')
    if 'rates' in d:
        lines.append('  measured rates:')
        lines += _table([dict(r, topic=t) for t, r in d['rates'].items()],
                        (('topic', 'topic'), ('publishers', 'pubs'), ('messages', 'messages'),
                         ('window_s', 'window s'), ('rate_hz', 'Hz'), ('note', 'note')),
                        indent='    ')
    if 'diagnostics' in d:
        lines.append('  latest /diagnostics:')
        lines += _table(d['diagnostics'], (('level_name', 'level'), ('name', 'status'),
                                           ('message', 'message'), ('age_s', 'age s')),
                        indent='    ')
    return lines


_RENDERERS: Dict[str, Callable[[dict], List[str]]] = {
    'system': _render_system, 'processes': _render_processes, 'camera': _render_camera,
    'serial': _render_serial, 'fds': _render_fds, 'kernel': _render_kernel,
    'log': _render_log, 'ros': _render_ros,
}


def render_text(report: dict) -> str:
    """Return the human-readable .log text of a diagnosis report (the JSON form)."""
    lines = ['face_tracker_ros diagnosis',
             '=' * 78,
             f"started   {report['started']}",
             f"finished  {report['finished']}  ({report['duration_s']} s)",
             f"host      {report['host']}",
             '',
             'SUMMARY',
             '-' * 78]
    if report['findings']:
        lines += [f"  {f['level']:<5} [{f['section']}] {f['text']}" for f in report['findings']]
    else:
        lines.append('  nothing notable found')
    for index, (name, section) in enumerate(report['sections'].items(), start=1):
        lines += ['', f"{index}. {section['title'].upper()}  [{name}: {section['status']}, "
                  f"{section['duration_s']} s]", '-' * 78]
        if section['status'] != 'ok':
            lines.append(f"  PROBE {section['status'].upper()}: {section['error']}")
            lines += [f'    {line}' for line in section['data'].get('traceback', [])]
            continue
        try:
            lines += _RENDERERS[name](section['data'])
        except Exception as exc:  # noqa: BLE001 - the JSON still has the data
            lines.append(f'  (could not format this section: {exc}; see the .json file)')
    return '\n'.join(lines) + '\n'


# --------------------------------------------------------------------------- driver
SECTIONS = (
    ('system', 'System resources', 4.0),
    ('processes', 'Tracker processes', 6.0),
    ('camera', 'Camera devices', 8.0),
    ('serial', 'Serial ports', 5.0),
    ('fds', 'File descriptors', 4.0),
    ('kernel', 'Kernel messages', 6.0),
    ('log', 'Tracker log file', 4.0),
)
ROS_TITLE = 'ROS graph and /diagnostics'


def _check_options(ros_timeout_s: float, log_lines: int) -> None:
    if isinstance(ros_timeout_s, bool) or not isinstance(ros_timeout_s, (int, float)) or \
            not math.isfinite(ros_timeout_s) or not 0 <= ros_timeout_s <= MAX_ROS_TIMEOUT_S:
        raise ValueError(f'ros_timeout (--ros-timeout) must be 0 (skip the ROS graph) or a '
                         f'number of seconds up to {MAX_ROS_TIMEOUT_S:g}, got {ros_timeout_s!r}')
    if isinstance(log_lines, bool) or not isinstance(log_lines, int) or \
            not 1 <= log_lines <= MAX_LOG_LINES:
        raise ValueError(f'log_lines (--log-lines) must be an integer from 1 to {MAX_LOG_LINES}'
                         f', got {log_lines!r}')


def collect(ros_timeout_s: float = DEFAULT_ROS_TIMEOUT_S, log_path: Optional[str] = None,
            log_lines: int = DEFAULT_LOG_LINES, budget_s: float = BUDGET_S) -> dict:
    """Run every probe within ``budget_s`` and return the report (the .json content).

    The ROS probe runs in parallel with the local ones; ``ros_timeout_s`` 0
    skips it.  Raises ValueError for an invalid option, nothing else.
    """
    _check_options(ros_timeout_s, log_lines)
    started = time.monotonic()
    started_iso = _now_iso()
    deadline = started + budget_s
    ros_run = None
    if ros_timeout_s > 0:
        ros_run = ProbeRun('ros', ROS_TITLE, lambda: probe_ros_graph(ros_timeout_s)).start()
    log_dir = next((p.parent for p in log_candidates(log_path) if p.parent.is_dir()), None)
    probes: Dict[str, Callable[[], dict]] = {
        'system': lambda: probe_system(log_dir=log_dir),
        'processes': probe_processes,
        'camera': probe_camera,
        'serial': probe_serial,
        'fds': probe_fds,
        'kernel': probe_kernel,
        'log': lambda: probe_log(log_path, log_lines),
    }
    sections: Dict[str, SectionResult] = {}
    for name, title, timeout in SECTIONS:
        remaining = deadline - time.monotonic() - 0.5
        if remaining < 0.5:
            sections[name] = SectionResult(name, title, 'skipped', 0.0,
                                           error='overall time budget used up')
            continue
        sections[name] = run_probe(name, probes[name], min(timeout, remaining), title)
    if ros_run is not None:
        wait = min(started + ros_timeout_s + 3.0, deadline) - time.monotonic()
        sections['ros'] = ros_run.result(max(0.1, wait))
    else:
        sections['ros'] = SectionResult('ros', ROS_TITLE, 'skipped', 0.0,
                                        error='--ros-timeout 0')
    return _clean({
        'tool': 'face_tracker_diagnose',
        'format_version': 1,
        'started': started_iso,
        'finished': _now_iso(),
        'duration_s': round(time.monotonic() - started, 2),
        'host': socket.gethostname(),
        'options': {'ros_timeout_s': ros_timeout_s, 'log_path': log_path,
                    'log_lines': log_lines, 'budget_s': budget_s},
        'findings': findings(sections),
        'sections': {name: result.as_dict() for name, result in sections.items()},
    })


def write_report(report: dict, output_dir: Path) -> Tuple[Path, Path]:
    """Write ``diagnosis_<stamp>.log`` and ``.json`` into ``output_dir``; return both paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime('%Y%m%d_%H%M%S')
    base = output_dir / f'diagnosis_{stamp}'
    n = 1
    while base.with_suffix('.log').exists() or base.with_suffix('.json').exists():
        n += 1
        base = output_dir / f'diagnosis_{stamp}_{n}'
    text_path, json_path = base.with_suffix('.log'), base.with_suffix('.json')
    json_path.write_text(json.dumps(report, indent=2, allow_nan=False) + '\n')
    text_path.write_text(render_text(report))
    return text_path, json_path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='face_tracker_diagnose',
        description='Collect system, device, process, kernel, log and ROS graph facts about '
                    'the face tracker into diagnosis_<time>.log and .json. Never needs root; '
                    f'finishes within about {BUDGET_S:.0f} s.')
    parser.add_argument('--output-dir', default='.', help='where to write the two files '
                        '(default: the current directory)')
    parser.add_argument('--ros-timeout', type=float, default=DEFAULT_ROS_TIMEOUT_S,
                        help='hard limit in seconds of the ROS graph probe, 0 to skip it '
                             f'(default {DEFAULT_ROS_TIMEOUT_S:g}, at most '
                             f'{MAX_ROS_TIMEOUT_S:g})')
    parser.add_argument('--log', default=None, help='face_tracker.log (or its directory); '
                        'default: $ROS_LOG_DIR, $ROS_HOME/log or ~/.ros/log, '
                        'then face_tracker_ros/face_tracker.log')
    parser.add_argument('--log-lines', type=int, default=DEFAULT_LOG_LINES,
                        help="how many of the log's last lines are searched for WARN/ERROR "
                             f'(default {DEFAULT_LOG_LINES})')
    parser.add_argument('--ros-probe', default=None, help=argparse.SUPPRESS)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line tool; return the exit status (0 written, 1 not, 2 bad option)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.ros_probe is not None:
        try:
            discovery, window = (float(v) for v in args.ros_probe.split(','))
        except ValueError:
            parser.error('--ros-probe takes DISCOVERY_S,WINDOW_S')
        return _ros_probe_child(discovery, window)
    try:
        _check_options(args.ros_timeout, args.log_lines)
    except ValueError as exc:
        parser.error(str(exc))
    report = collect(args.ros_timeout, args.log, args.log_lines)
    try:
        text_path, json_path = write_report(report, Path(args.output_dir).expanduser())
    except OSError as exc:
        print(f'face_tracker_diagnose: cannot write to {args.output_dir}: {exc}',
              file=sys.stderr)
        return 1
    for finding in report['findings']:
        if finding['level'] != 'INFO':
            print(f"{finding['level']:<5} [{finding['section']}] {finding['text']}")
    print(f'diagnosis written to:\n  {text_path}\n  {json_path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
