# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Plots and a markdown summary of what went wrong, from a recorded or flight-recorder bag.

``python -m face_tracker_ros.tools.report BAG [--output-dir DIR]`` reads a
rosbag2 (MCAP or sqlite3, a bag directory or a single ``.mcap``/``.db3`` file)
with ``rosbags`` (no ROS installation needed) and writes into DIR:

* ``target_error.png``: the detector's face offset and the face's distance from
  the image centre (the simulation's truth when ``sim/true_target`` is there);
* ``pan_tilt.png``: commanded (``joint_states``) and true (``sim/joint_states``)
  angles;
* ``latency.png``: capture -> servo command latency (``servo/command_latency``);
* ``camera_fps.png``: the camera's measured frame rate (``camera: camera`` status)
  and the detector's output rate (``face/target``);
* ``process_rss.png``, ``process_cpu.png``: per node process, from the
  ``diagnostics: process <node>`` statuses;
* ``status_timeline.png``: one row per ``/diagnostics`` status, coloured by level;
* ``summary.md``: time span, counts, latency p50/p99, error rms, the first ERROR,
  each status's worst level, node restarts (pid changes), ERROR/FATAL log lines.

Every plot's time axis is seconds from the bag's start; vertical red dashed
lines mark a status turning ERROR and purple dotted ones a node restart.  A
plot without data says so instead of failing.

The modules: ``load`` (the bag into ``data.BagData``), ``stats`` (the figures),
``plotting`` (what the plots share), ``plots`` (the seven PNGs) and ``summary``
(summary.md).
"""

import argparse
from dataclasses import dataclass
from pathlib import Path
import sys
from typing import Dict, List, Optional

from face_tracker_ros.common.stats import percentile
from face_tracker_ros.tools.report.data import BagData, Event, StatusSample, TOPIC_TYPES
from face_tracker_ros.tools.report.load import load_bag, resolve_bag
from face_tracker_ros.tools.report.plots import (
    plot_camera_fps,
    plot_latency,
    plot_pan_tilt,
    plot_process,
    plot_status_timeline,
    plot_target_error,
    PLOTS,
    render_plots,
    RSS_ERROR_MB,
    RSS_WARN_MB,
)
from face_tracker_ros.tools.report.stats import rms, statistics, status_summary
from face_tracker_ros.tools.report.summary import summary_markdown

__all__ = [
    'BagData', 'Event', 'load_bag', 'main', 'make_report', 'percentile', 'plot_camera_fps',
    'plot_latency', 'plot_pan_tilt', 'plot_process', 'plot_status_timeline',
    'plot_target_error', 'PLOTS', 'render_plots', 'ReportResult', 'resolve_bag', 'rms',
    'RSS_ERROR_MB', 'RSS_WARN_MB', 'statistics', 'status_summary', 'StatusSample',
    'summary_markdown', 'TOPIC_TYPES',
]


@dataclass
class ReportResult:
    """What make_report() wrote."""

    output_dir: Path
    plots: Dict[str, Path]
    summary: Path
    data: BagData


def make_report(bag: Path, output_dir: Path) -> ReportResult:
    """Read ``bag`` and write every PNG and summary.md into ``output_dir``."""
    data = load_bag(Path(bag))
    output_dir = Path(output_dir)
    stats = statistics(data)
    plots = render_plots(data, output_dir, stats)
    summary = output_dir / 'summary.md'
    summary.write_text(summary_markdown(data, plots, stats))
    return ReportResult(output_dir=output_dir, plots=plots, summary=summary, data=data)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line tool; return 0 on success, 1 for an unreadable bag, 2 bad args."""
    parser = argparse.ArgumentParser(
        prog='face_tracker_report',
        description='Plots (PNG) and a markdown summary of what went wrong, from a rosbag2 '
                    '(MCAP or sqlite3) recorded by ros2 bag or the flight recorder.')
    parser.add_argument('bag', help='bag directory, or its .mcap / .db3 file')
    parser.add_argument('--output-dir', default=None,
                        help='where to write the PNGs and summary.md (default: '
                             '<current directory>/report_<bag name>)')
    args = parser.parse_args(argv)
    bag = Path(args.bag).expanduser()
    output_dir = Path(args.output_dir).expanduser() if args.output_dir else \
        Path.cwd() / f'report_{bag.resolve().name}'
    try:
        result = make_report(bag, output_dir)
    except FileNotFoundError as exc:
        print(f'face_tracker_report: {exc}', file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:
        print(f'face_tracker_report: {exc}', file=sys.stderr)
        return 1
    data = result.data
    print(f'{data.path}: {data.duration_s:.1f} s, '
          f'{sum(c for _, c in data.topics.values())} messages, '
          f'{len(data.error_events())} ERROR transition(s), {len(data.restarts)} restart(s)')
    for path in result.plots.values():
        print(f'  {path}')
    print(f'  {result.summary}')
    return 0
