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
  package's ``--ros-probe`` mode, the only place rclpy is imported), killed
  after ``--ros-timeout`` seconds, so a DDS problem cannot hang the tool.

The modules: ``collect`` (the sections, the budget, the two files), ``sections`` (one
probe in a thread), the probes ``host`` (system, kernel, log file), ``processes``,
``devices`` (camera, serial) and ``ros_probe``, ``findings`` (the summary's rules) and
``render`` (the .log text).
"""

import argparse
from pathlib import Path
import sys
from typing import List, Optional

from face_tracker_ros.tools.diagnose.collect import (
    BUDGET_S,
    check_options,
    collect,
    DEFAULT_ROS_TIMEOUT_S,
    MAX_LOG_LINES,
    MAX_ROS_TIMEOUT_S,
    SECTIONS,
    write_report,
)
from face_tracker_ros.tools.diagnose.devices import (
    device_holders,
    group_membership,
    probe_camera,
    probe_serial,
)
from face_tracker_ros.tools.diagnose.findings import findings, INFO_LABEL
from face_tracker_ros.tools.diagnose.host import (
    classify_kernel_lines,
    DEFAULT_LOG_LINES,
    log_candidates,
    probe_kernel,
    probe_log,
    probe_system,
    tail_lines,
)
from face_tracker_ros.tools.diagnose.processes import (
    find_tracker_processes,
    is_tracker_cmdline,
    probe_fds,
    probe_processes,
)
from face_tracker_ros.tools.diagnose.render import render_text
from face_tracker_ros.tools.diagnose.ros_probe import probe_ros_graph, ros_probe_child
from face_tracker_ros.tools.diagnose.sections import ProbeRun, run_probe, SectionResult
from face_tracker_ros.tools.diagnose.util import run_command

__all__ = [
    'BUDGET_S', 'classify_kernel_lines', 'collect', 'DEFAULT_LOG_LINES',
    'DEFAULT_ROS_TIMEOUT_S', 'device_holders', 'find_tracker_processes', 'findings',
    'group_membership', 'is_tracker_cmdline', 'log_candidates', 'main', 'MAX_LOG_LINES',
    'MAX_ROS_TIMEOUT_S', 'probe_camera', 'probe_fds', 'probe_kernel', 'probe_log',
    'probe_processes', 'probe_ros_graph', 'probe_serial', 'probe_system', 'ProbeRun',
    'render_text', 'run_command', 'run_probe', 'SECTIONS', 'SectionResult', 'tail_lines',
    'write_report',
]


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
        return ros_probe_child(discovery, window)
    try:
        check_options(args.ros_timeout, args.log_lines)
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
        if finding['level'] != INFO_LABEL:
            print(f"{finding['level']:<5} [{finding['section']}] {finding['text']}")
    print(f'diagnosis written to:\n  {text_path}\n  {json_path}')
    return 0
