# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Readings of the machine and of one process (psutil, /proc), and the grep-able summary line.

Every reading races with processes exiting, so every psutil call here is
guarded: a process that is gone yields None, a zombie yields what the kernel
still tells (state, name, threads, uptime; no memory), and a figure the
platform cannot read is NaN (floats) or -1 (integers) instead of an error.
"""

from dataclasses import dataclass, field
import math
import os
import re
import time
from typing import Dict, List, Mapping, Optional, Tuple

import psutil

MB = 1024.0 * 1024.0

#: Where CPU temperatures are found, most specific first: Intel, AMD, Raspberry Pi and
#: other ARM boards, then the generic ACPI zone.
_TEMP_CHIPS = ('coretemp', 'k10temp', 'zenpower', 'cpu_thermal', 'cpu-thermal',
               'soc_thermal', 'x86_pkg_temp', 'acpitz')

PSUTIL_ERRORS = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)

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


def read_process(proc: psutil.Process, first: bool) -> Tuple[Optional[ProcessSample], bool]:
    """Read one process; return (the sample or None if it is gone, whether its CPU was read).

    ``first`` (the first reading of this process object) reports a CPU of
    0.0: psutil's figure covers the time since the previous reading.
    """
    cpu_read = False
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
            if first:
                cpu = 0.0
            cpu_read = True
            threads = _call(proc.num_threads, -1)
            fds = _call(proc.num_fds, -1) if hasattr(proc, 'num_fds') else -1
            created = _call(proc.create_time, None)
            uptime = (max(0.0, time.time() - created) if created is not None
                      else float('nan'))
            cmdline = _call(proc.cmdline, [])
    except psutil.NoSuchProcess:
        return None, cpu_read
    return ProcessSample(pid=proc.pid, name=name, rss_mb=rss_mb, cpu_percent=cpu,
                         num_threads=threads, num_fds=fds, state=state, zombie=zombie,
                         uptime_s=uptime, cmdline=list(cmdline or []), anon_mb=anon_mb), True


def start_time(proc: psutil.Process) -> Optional[float]:
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


@dataclass(frozen=True)
class CpuReading:
    """What one process did on the CPUs so far (Linux ``/proc``), for the watchdog.

    ``ran_s``: its CPU time, utime + stime of every thread (ended ones too);
    ``waits_s``: per thread id, the time it waited on a run queue for a CPU
    (``run_delay``, the second field of ``/proc/<pid>/task/<tid>/schedstat``;
    a CPU quota's throttled time counts; the kernel adds a wait when the
    thread gets its CPU, not while it waits); ``state``: the state letter of
    ``/proc/<pid>/stat`` (R running, S sleeping, D disk sleep, T stopped ...);
    ``ready``: per thread ready to run (state R) now, its CPU time so far (the
    first field of its ``schedstat``): one ready at two readings with the same
    CPU time has waited all the time between them; ``t``: when it was read
    (``time.monotonic``; None: at the reader's caller's time).
    """

    ran_s: float
    waits_s: Mapping[int, float]
    state: str
    ready: Mapping[int, float] = field(default_factory=dict)
    t: Optional[float] = None


def read_cpu(pid: int) -> Optional[CpuReading]:
    """Return what ``pid`` did on the CPUs so far; None when gone or unreadable.

    Unreadable: not Linux, or a kernel without ``schedstat`` files.
    """
    if not _LINUX_PROC:
        return None
    base = f'/proc/{int(pid)}'
    now = time.monotonic()
    try:
        with open(base + '/stat', 'rb') as handle:
            data = handle.read()
        fields = data[data.rindex(b')') + 2:].split()  # state is field 3, utime/stime 14/15
        state = fields[0].decode('ascii', 'replace')
        ran = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        waits: Dict[int, float] = {}
        ready: Dict[int, float] = {}
        for tid in os.listdir(base + '/task'):
            try:
                with open(f'{base}/task/{tid}/schedstat', 'rb') as handle:
                    cpu_ns, delay_ns = handle.read().split()[:2]
                with open(f'{base}/task/{tid}/stat', 'rb') as handle:
                    task = handle.read()
            except FileNotFoundError:
                continue  # the thread ended meanwhile (or this kernel has no schedstat)
            waits[int(tid)] = int(delay_ns) / 1e9
            if task[task.rindex(b')') + 2:task.rindex(b')') + 3] == b'R':
                ready[int(tid)] = int(cpu_ns) / 1e9
    except (OSError, ValueError, IndexError):
        return None
    return CpuReading(ran, waits, state, ready, now) if waits else None


def _call_quietly(getter) -> Optional[float]:
    try:
        return getter()
    except PSUTIL_ERRORS:
        return None


def is_zombie(proc: psutil.Process) -> bool:
    """Return True if ``proc`` is a zombie (False when gone or unreadable)."""
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except PSUTIL_ERRORS:
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
