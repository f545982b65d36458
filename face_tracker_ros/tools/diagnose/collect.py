# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Run every probe within the overall budget and write the report's two files."""

import datetime
import json
import math
from pathlib import Path
import socket
import time
from typing import Callable, Dict, Optional, Tuple

from face_tracker_ros.tools.diagnose.devices import probe_camera, probe_serial
from face_tracker_ros.tools.diagnose.findings import findings
from face_tracker_ros.tools.diagnose.host import (
    DEFAULT_LOG_LINES,
    log_candidates,
    probe_kernel,
    probe_log,
    probe_system,
)
from face_tracker_ros.tools.diagnose.processes import probe_fds, probe_processes
from face_tracker_ros.tools.diagnose.render import render_text
from face_tracker_ros.tools.diagnose.ros_probe import probe_ros_graph
from face_tracker_ros.tools.diagnose.sections import ProbeRun, run_probe, SectionResult
from face_tracker_ros.tools.diagnose.util import json_safe, now_iso

#: Overall time budget of the local probes plus the ROS probe (diagnose promises < 30 s).
BUDGET_S = 25.0
#: Default hard limit of the ROS graph probe subprocess.
DEFAULT_ROS_TIMEOUT_S = 10.0
MAX_ROS_TIMEOUT_S = 25.0
MAX_LOG_LINES = 100000
#: The local sections: name, title, timeout (s).
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


def check_options(ros_timeout_s: float, log_lines: int) -> None:
    """Raise ValueError for a ``--ros-timeout`` or ``--log-lines`` out of range."""
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
    check_options(ros_timeout_s, log_lines)
    started = time.monotonic()
    started_iso = now_iso()
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
    return json_safe({
        'tool': 'face_tracker_diagnose',
        'format_version': 1,
        'started': started_iso,
        'finished': now_iso(),
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
