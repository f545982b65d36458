# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""summary.md: what went wrong and when, the figures, the status levels, links to the plots."""

import datetime
from pathlib import Path
from typing import Dict, List, Optional

from face_tracker_ros.tools.report.data import BagData, Event, ROSOUT_KEY, topic_key
from face_tracker_ros.tools.report.stats import statistics, status_summary

#: At most this many ERROR/FATAL log lines are listed.
MAX_LOG_LINES = 10
#: The heading of each plot's section.
PLOT_TITLES = {'target_error': 'Target error', 'pan_tilt': 'Pan and tilt',
               'latency': 'Capture -> command latency', 'camera_fps': 'Camera frame rate',
               'process_rss': 'Process memory (RSS)', 'process_cpu': 'Process CPU',
               'status_timeline': 'Status timeline'}


def _clock(data: BagData, t: float) -> str:
    stamp = datetime.datetime.fromtimestamp(data.start_ns / 1e9 + t, tz=datetime.timezone.utc)
    return stamp.strftime('%H:%M:%S.%f')[:-3] + 'Z'


def _at(data: BagData, t: float) -> str:
    return f't={t:.1f} s ({_clock(data, t)})'


def _num(value: Optional[float], fmt: str, unit: str = '') -> str:
    return 'n/a' if value is None else f'{value:{fmt}}{unit}'


def _cell(text: str) -> str:
    return text.replace('|', '\\|').replace('\n', ' ')


def _verdict(data: BagData, errors: List[Event]) -> List[str]:
    verdict = []
    if errors:
        first = errors[0]
        verdict.append(f'**First ERROR** at {_at(data, first.t)}: `{first.what}`: '
                       f'{first.detail or "(no message)"}')
    if data.restarts:
        verdict.append(f'**{len(data.restarts)} node restart(s)**: ' + ', '.join(
            f'{e.what} at t={e.t:.1f} s' for e in data.restarts))
    bad_logs = len(data.logs)
    if bad_logs:
        verdict.append(f'**{bad_logs} ERROR/FATAL log line(s)** on /rosout, the first at '
                       f'{_at(data, data.logs[0][0])}: [{data.logs[0][2]}] '
                       f'{data.logs[0][3][:160]}')
    if not verdict:
        verdict.append('No status reached ERROR, no node restarted and no ERROR/FATAL log '
                       'line was recorded.')
    return ['## What went wrong', ''] + [f'- {v}' for v in verdict] + ['']


def _span_and_counts(data: BagData, stats: dict) -> List[str]:
    start = datetime.datetime.fromtimestamp(data.start_ns / 1e9, tz=datetime.timezone.utc)
    end = datetime.datetime.fromtimestamp(data.end_ns / 1e9, tz=datetime.timezone.utc)
    lines = ['## Time span and counts', '',
             f'- Bag: `{data.path}`',
             f'- From {start.isoformat(timespec="milliseconds")} to '
             f'{end.isoformat(timespec="milliseconds")} ({data.duration_s:.1f} s)',
             f"- Frames processed (face/target): {stats['frames']}, with a face: "
             f"{stats['frames_with_face']}",
             f"- Servo commands with latency (servo/command_latency): {stats['latency_n']}",
             f"- Capture -> command latency: p50 {_num(stats['latency_p50_ms'], '.1f', ' ms')}"
             f", p99 {_num(stats['latency_p99_ms'], '.1f', ' ms')}, max "
             f"{_num(stats['latency_max_ms'], '.1f', ' ms')}"]
    if stats['truth_frames']:
        lines.append(f"- Target error (sim/true_target, face in view in {stats['truth_in_view']}"
                     f" of {stats['truth_frames']} frames): rms "
                     f"{_num(stats['truth_error_rms'], '.3f')}, max "
                     f"{_num(stats['truth_error_max'], '.3f')} (image half-widths)")
    lines.append(f"- Detected offset from centre: rms {_num(stats['detector_offset_rms'], '.3f')}"
                 ' (image half-widths)')
    lines.append(f"- Camera fps (status): mean {_num(stats['fps_mean'], '.1f')}, min "
                 f"{_num(stats['fps_min'], '.1f')}")
    if data.log_counts:
        lines.append('- /rosout lines: ' + ', '.join(
            f'{k} {v}' for k, v in sorted(data.log_counts.items())))
    if data.undecodable:
        lines.append(f'- {data.undecodable} message(s) could not be decoded and were skipped')
    lines += [f'- Note: {note}' for note in data.notes]
    lines += ['', '| topic | type | messages |', '|---|---|---|']
    lines += [f'| `{topic}` | {msgtype} | {count} |'
              for topic, (msgtype, count) in sorted(data.topics.items())]
    return lines + ['']


def _status_levels(data: BagData, errors: List[Event]) -> List[str]:
    statuses = status_summary(data)
    lines = ['## Status levels', '']
    if statuses:
        lines += ['| status | worst | first at worst | message at worst | time at ERROR | '
                  'last |', '|---|---|---|---|---|---|']
        for row in statuses:
            lines.append(f"| `{_cell(row['name'])}` | {row['worst_name']} | "
                         f"{_at(data, row['t'])} | {_cell(row['message'])[:120]} | "
                         f"{row['error_s']:.1f} s | {row['last']} |")
    else:
        lines.append('No /diagnostics messages in the bag.')
    lines.append('')
    if errors:
        lines += ['### Every status turning ERROR', '']
        lines += [f'- {_at(data, e.t)} `{e.what}`: {e.detail}' for e in errors[:20]]
        if len(errors) > 20:
            lines.append(f'- ... and {len(errors) - 20} more')
        lines.append('')
    return lines


def _restarts(data: BagData) -> List[str]:
    lines = ['## Node restarts', '']
    if data.restarts:
        lines += [f'- {_at(data, e.t)} **{e.what}** restarted: {e.detail}'
                  for e in data.restarts]
    else:
        lines.append('No pid change seen in the statuses.')
    if data.restart_counters:
        lines.append('- Restarts counted by the diagnostics node over its lifetime: ' +
                     ', '.join(f'{k} {v}' for k, v in sorted(data.restart_counters.items())))
    return lines + ['']


def _log_lines(data: BagData) -> List[str]:
    lines = ['## ERROR and FATAL log lines', '']
    if data.logs:
        lines += [f'- {_at(data, t)} {level} [{name}] {_cell(msg)[:300]}'
                  for t, level, name, msg in data.logs[:MAX_LOG_LINES]]
        if len(data.logs) > MAX_LOG_LINES:
            lines.append(f'- ... and {len(data.logs) - MAX_LOG_LINES} more')
    else:
        lines.append('None recorded on /rosout.' if ROSOUT_KEY in
                     {topic_key(t) for t in data.topics} else 'No /rosout in the bag.')
    return lines + ['']


def _plot_links(plots: Dict[str, Path]) -> List[str]:
    lines = ['## Plots', '']
    for name, path in plots.items():
        title = PLOT_TITLES.get(name, name)
        lines += [f'### {title}', '', f'![{title}]({path.name})', '']
    return lines


def summary_markdown(data: BagData, plots: Dict[str, Path], stats: Optional[dict] = None
                     ) -> str:
    """Return summary.md: what went wrong and when, figures, and links to the plots."""
    stats = stats if stats is not None else statistics(data)
    errors = data.error_events()
    lines = [f'# Report: {data.path.name}', '']
    lines += _verdict(data, errors)
    lines += _span_and_counts(data, stats)
    lines += _status_levels(data, errors)
    lines += _restarts(data)
    lines += _log_lines(data)
    lines += _plot_links(plots)
    return '\n'.join(lines)
