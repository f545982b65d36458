# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The diagnostics node's statuses, built from readings: (level, message, figures) each.

``diagnostics: system`` (:func:`system_report`), ``diagnostics: process <node>``
(:func:`process_report`) and ``diagnostics: camera device``
(:func:`camera_device_report`); :class:`LevelNotes` logs a status that gets
worse, and its return to OK.  ROS-free.
"""

import math
import os
from typing import Callable, Dict, Mapping, Optional, Tuple

from face_tracker_ros.common.status import ERROR, OK, WARN, worst
from face_tracker_ros.monitor.params import Bands
from face_tracker_ros.monitor.readings import ProcessSample, SystemSample

Report = Tuple[int, str, Dict[str, object]]


class LevelNotes:
    """Logs a warning when a status gets worse, an info line when it recovers."""

    def __init__(self, log: Callable[[int, str], None]):
        """Log through ``log(level, text)``."""
        self._log = log
        self._levels: Dict[str, int] = {}

    def note(self, task: str, level: int, message: str) -> None:
        """Take the latest level of ``task`` and log a change."""
        previous = self._levels.get(task, OK)
        self._levels[task] = level
        if level > previous:
            self._log(level, f'{task}: {message}')
        elif level < previous and level == OK:
            self._log(OK, f'{task}: back to OK ({message})')


def system_report(s: SystemSample, cpu_sustained: Optional[float], sustained: bool,
                  bands: Bands, disk_path: str) -> Report:
    """Judge the machine; ``sustained`` False (start-up) leaves the CPU unjudged."""
    figures = {
        'cpu_percent': s.cpu_percent, 'cpu_percent_sustained': cpu_sustained,
        'cpu_percent_per_core': ' '.join(f'{c:.0f}' for c in s.cpu_percent_per_core),
        'load_1m': s.load_1m, 'load_5m': s.load_5m, 'load_15m': s.load_15m,
        'mem_used_percent': s.mem_used_percent, 'mem_available_mb': s.mem_available_mb,
        'swap_used_percent': s.swap_used_percent, 'disk_free_mb': s.disk_free_mb,
        'disk_free_percent': s.disk_free_percent, 'disk_path': disk_path,
        'cpu_temp_c': s.cpu_temp_c if s.cpu_temp_c is not None else 'not exposed',
    }
    cpu = cpu_sustained if sustained else None  # start-up load is not an alarm
    checks = [(bands.cpu, cpu), (bands.mem, s.mem_used_percent),
              (bands.disk, s.disk_free_percent), (bands.temp, s.cpu_temp_c)]
    level = worst(band.level(value) for band, value in checks)
    if level == OK:
        message = (f'cpu {s.cpu_percent:.0f}%, mem {s.mem_used_percent:.0f}%, '
                   f'disk {s.disk_free_percent:.0f}% free, load {s.load_1m:.2f}')
    else:
        message = '; '.join(band.describe(value) for band, value in checks
                            if band.level(value) == level)
    return level, message, figures


def process_report(sample: ProcessSample, slope: Optional[float], anon_slope: Optional[float],
                   restarts: int, span_s: float, bands: Bands, min_span_s: float) -> Report:
    """Judge a node's process: memory, its growth (``slope``s in MB/h, None: too few), fds."""
    figures = {
        'pid': sample.pid, 'rss_mb': sample.rss_mb,
        'rss_growth_mb_per_h': slope if slope is not None else 'collecting',
        'anon_mb': sample.anon_mb,
        'anon_growth_mb_per_h': anon_slope if anon_slope is not None else 'collecting',
        'cpu_percent': sample.cpu_percent, 'num_threads': sample.num_threads,
        'num_fds': sample.num_fds, 'state': sample.state, 'uptime_s': sample.uptime_s,
        'restarts': restarts,
        'growth_span_s': span_s,
    }
    if sample.zombie:
        return ERROR, 'zombie process', figures
    # A leak is judged on the anonymous memory (what the process's own code allocates);
    # RSS also moves with file and shared-memory pages read.
    anon = math.isfinite(sample.anon_mb)
    growth, judged = (bands.growth, anon_slope) if anon else (bands.rss_growth, slope)
    checks = [(bands.rss_mb, sample.rss_mb), (growth, judged), (bands.fds, sample.num_fds)]
    level = worst(band.level(value) for band, value in checks)
    trend = f'{judged:+.1f} MB/h' if judged is not None else \
        f'trend after {min_span_s:.0f} s'
    memory = f'rss {sample.rss_mb:.0f} MB, anon {sample.anon_mb:.0f} MB' if anon \
        else f'rss {sample.rss_mb:.0f} MB'
    message = f'{memory}, {trend}'
    if level != OK:
        message += '; ' + '; '.join(band.describe(value) for band, value in checks
                                    if band.level(value) == level)
    return level, message, figures


def camera_device_report(status: Optional[Mapping[str, str]], watched: bool, rate: float,
                         topic: str, warming_up: bool) -> Report:
    """Judge the camera node's device from its last status and the frame ``rate`` on ``topic``."""
    figures: Dict[str, object] = {'camera_info_topic': topic, 'frame_rate_hz': rate}
    if status is None:
        if not watched:
            return OK, 'no camera node in this bring-up', figures
        if warming_up:
            return OK, 'waiting for the camera node', figures
        return WARN, 'no status from the camera node', figures
    source, device = status.get('source', ''), status.get('device', '')
    figures.update({'source': source, 'device': device})
    level, message = OK, ''
    if source == 'v4l2':
        resolved = os.path.realpath(device) if device.startswith('/') else device
        figures['resolved'] = resolved
        exists = not device.startswith('/') or os.path.exists(device)
        figures['exists'] = exists
        if not exists:
            level, message = ERROR, f'{device} does not exist (unplugged?)'
        elif device.startswith('/') and not os.access(device, os.R_OK | os.W_OK):
            level, message = ERROR, f'{device} is not accessible (video group?)'
        else:
            message = f'{device} present'
    elif source == 'file':
        exists = os.path.isfile(device)
        figures['exists'] = exists
        level, message = (OK, f'video file {device}') if exists else \
            (ERROR, f'video file {device} is missing')
    else:
        message = 'simulated camera'
    if level == OK and rate <= 0.0 and not warming_up:
        level, message = WARN, f'{message}; no frames on {topic}'
    elif level == OK:
        message = f'{message}, {rate:.1f} Hz on {topic}'
    return level, message, figures
