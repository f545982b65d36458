# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The seven plots (PNG), each with its time axis in seconds from the bag's start."""

import math
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from matplotlib.lines import Line2D
from matplotlib.patches import Patch
import numpy as np

from face_tracker_ros.common.params import defaults
from face_tracker_ros.common.status import ERROR, LEVEL_LABELS, STALE, WARN
from face_tracker_ros.monitor.params import PARAMS as MONITOR_PARAMS
from face_tracker_ros.tools.report.data import BagData
from face_tracker_ros.tools.report.plotting import (
    broken_at_gaps,
    draw_no_data,
    finish,
    legend_right,
    LEVEL_COLOURS,
    mark_events,
    new_figure,
    one_axes_plot,
    rate_per_second,
    save_figure,
    stream_gaps,
    time_axis,
    true_spans,
)
from face_tracker_ros.tools.report.stats import statistics, status_hold

#: The plots, in the order they are written (their file names without .png).
PLOTS = ('target_error', 'pan_tilt', 'latency', 'camera_fps', 'process_rss', 'process_cpu',
         'status_timeline')
_MONITOR = defaults(MONITOR_PARAMS)
#: Default process thresholds of the diagnostics node.
RSS_WARN_MB, RSS_ERROR_MB = _MONITOR['rss_warn_mb'], _MONITOR['rss_error_mb']


def plot_target_error(data: BagData, path: Path, stats: dict) -> Path:
    """Write target_error.png: the detector's offset and the distance from the centre."""
    fig, (top, bottom) = new_figure(2, height=7.0)
    t = np.asarray(data.target['t'])
    z = np.asarray(data.target['z'])
    if t.size:
        face = z > 0
        x = np.where(face, data.target['x'], np.nan)
        y = np.where(face, data.target['y'], np.nan)
        bt, bx, by = broken_at_gaps(t, x, y)
        top.plot(bt, bx, color='#1f77b4', linewidth=1.2, label='x (right +)')
        top.plot(bt, by, color='#ff7f0e', linewidth=1.2, label='y (down +)')
        first = True
        for a, b in true_spans(list(t), list(~face)):
            top.axvspan(a, b, color='#bbbbbb', alpha=0.5, linewidth=0,
                        label='no face detected' if first else None)
            first = False
        first = True
        for a, b in stream_gaps(t):
            top.axvspan(a, b, color='#ffe08a', alpha=0.6, linewidth=0,
                        label='no face/target messages' if first else None)
            first = False
        top.set_ylim(-1.05, 1.05)
        top.set_ylabel('offset (image half-widths)')
        rate = 100.0 * stats['frames_with_face'] / max(1, stats['frames'])
        top.set_title(f'Face offset seen by the detector (face/target): '
                      f"{stats['frames_with_face']} of {stats['frames']} frames with a face "
                      f'({rate:.0f} %)')
        mark_events(top, data)
    else:
        draw_no_data(top, 'no face/target messages in the bag',
                     'Face offset seen by the detector (face/target)')
    time_axis(top, data, last=False)
    legend_right(top)

    tt = np.asarray(data.truth['t'])
    if tt.size or t.size:
        if tt.size:
            tz = np.asarray(data.truth['z'])
            bottom.plot(*broken_at_gaps(tt, np.where(tz >= 0, tz, np.nan)), color='black',
                        linewidth=1.4, label='true distance (sim/true_target)')
            first = True
            for a, b in true_spans(list(tt), list(tz < 0)):
                bottom.axvspan(a, b, color='#f4a6a6', alpha=0.5, linewidth=0,
                               label='face out of view' if first else None)
                first = False
        if t.size:
            face = z > 0
            seen = np.where(face, np.hypot(data.target['x'], data.target['y']), np.nan)
            bottom.plot(*broken_at_gaps(t, seen), color='#1f77b4', linewidth=0.9, alpha=0.8,
                        label='detected |offset|')
        bottom.set_ylim(bottom=0.0)
        bottom.set_ylabel('distance from centre\n(image half-widths)')
        if stats['truth_error_rms'] is not None:
            title = (f'Distance of the face from the image centre: true rms '
                     f"{stats['truth_error_rms']:.3f}, max {stats['truth_error_max']:.3f}")
        elif stats['detector_offset_rms'] is not None:
            title = (f'Distance of the face from the image centre: detected rms '
                     f"{stats['detector_offset_rms']:.3f}")
        else:
            title = 'Distance of the face from the image centre'
        bottom.set_title(title)
        mark_events(bottom, data, labels=False)
    else:
        draw_no_data(bottom, 'no face/target or sim/true_target messages',
                     'Distance of the face from the image centre')
    return finish(fig, bottom, data, path)


def plot_pan_tilt(data: BagData, path: Path) -> Path:
    """Write pan_tilt.png: commanded and (in simulation) true pan and tilt angles."""
    return one_axes_plot(data, path, 'Pan and tilt (joint_states: commanded; sim/joint_states: '
                         'true)', lambda ax: _draw_pan_tilt(ax, data),
                         'no joint_states messages in the bag', right=1.08)


def _draw_pan_tilt(ax, data: BagData) -> bool:
    if not (data.joints['t'] or data.sim_joints['t']):
        return False
    for cols, style, source in ((data.joints, '-', 'commanded'),
                                (data.sim_joints, '--', 'true')):
        if not cols['t']:
            continue
        bt, pan, tilt = broken_at_gaps(cols['t'], cols['pan'], cols['tilt'])
        ax.plot(bt, pan, style, color='#1f77b4', linewidth=1.3, label=f'pan {source}')
        ax.plot(bt, tilt, style, color='#d62728', linewidth=1.3, label=f'tilt {source}')
    ax.set_ylabel('angle (rad)\npan + = left, tilt + = down')
    secondary = ax.secondary_yaxis('right', functions=(np.degrees, np.radians))
    secondary.set_ylabel('angle (degrees)')
    return True


def plot_latency(data: BagData, path: Path, stats: dict) -> Path:
    """Write latency.png: capture -> servo command latency with its p50 and p99."""
    return one_axes_plot(data, path, 'Capture -> servo command latency (servo/command_latency)',
                         lambda ax: _draw_latency(ax, data, stats),
                         'no servo/command_latency messages in the bag')


def _draw_latency(ax, data: BagData, stats: dict) -> bool:
    t = np.asarray(data.latency['t'])
    ms = np.asarray(data.latency['ms'])
    if not t.size:
        return False
    p50, p99 = stats['latency_p50_ms'], stats['latency_p99_ms']
    ax.set_title(f'Capture -> servo command latency (servo/command_latency): '
                 f'p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ms.max():.1f} ms, n {ms.size}')
    top = max(p99 * 1.5, p50 * 4.0, 1.0)
    top = min(top, float(ms.max()) * 1.05) if ms.max() > 0 else top
    inside = ms <= top
    ax.plot(t[inside], ms[inside], '.', color='#1f77b4', markersize=3, label='one command')
    if (~inside).any():
        ax.plot(t[~inside], np.full((~inside).sum(), top * 0.98), '^', color='#d62728',
                markersize=6, label=f'above {top:.0f} ms (clipped)')
    ax.axhline(p50, color='#2ca02c', linewidth=1.5, label=f'p50 {p50:.1f} ms')
    ax.axhline(p99, color='#ff7f0e', linewidth=1.5, linestyle='--', label=f'p99 {p99:.1f} ms')
    ax.set_ylim(min(0.0, float(ms.min())), top)
    ax.set_ylabel('latency (ms)')
    return True


def plot_camera_fps(data: BagData, path: Path) -> Path:
    """Write camera_fps.png: measured camera rate, its configured rate, detector output rate."""
    return one_axes_plot(data, path, 'Frame rates: camera (status "camera: camera", fps over '
                         '5 s) and detector (face/target per second)',
                         lambda ax: _draw_camera_fps(ax, data),
                         'no camera status (fps) and no face/target messages')


def _draw_camera_fps(ax, data: BagData) -> bool:
    if not (data.fps['t'] or data.target['t']):
        return False
    if data.fps['t']:
        ax.plot(*broken_at_gaps(data.fps['t'], data.fps['fps']), '-o', color='#1f77b4',
                markersize=3, linewidth=1.5, label='camera measured fps')
        configured = [v for v in data.fps['configured'] if math.isfinite(v)]
        if configured:
            ax.plot(data.fps['t'], data.fps['configured'], '--', color='#555555',
                    linewidth=1.2, label='camera configured fps')
    if data.target['t']:
        centres, counts = rate_per_second(data.target['t'], data.duration_s)
        ax.step(centres, counts, where='mid', color='#ff7f0e', linewidth=1.1,
                label='detector results per second')
    ax.set_ylim(bottom=0.0)
    ax.set_ylabel('rate (frames per second, Hz)')
    return True


def plot_process(data: BagData, path: Path, column: str) -> Path:
    """Write process_rss.png (``column`` 'rss') or process_cpu.png ('cpu') per node.

    The memory plot draws each node's anonymous memory (heap, stacks: where a
    leak of its own shows) dashed in the node's colour under its RSS.
    """
    what = 'memory (RSS; dashed: its anonymous part)' if column == 'rss' else 'CPU'
    return one_axes_plot(data, path, f'Process {what} per node (status "diagnostics: process '
                         '<node>")', lambda ax: _draw_process(ax, data, column),
                         'no "diagnostics: process <node>" statuses with figures')


def _draw_process(ax, data: BagData, column: str) -> bool:
    drawn = False
    peak = 0.0
    for node, cols in sorted(data.processes.items()):
        values = np.asarray(cols[column], dtype=float)
        if not np.isfinite(values).any():
            continue
        line, = ax.plot(*broken_at_gaps(cols['t'], values), '-o', markersize=2.5, linewidth=1.4,
                        label=node)
        anon = np.asarray(cols.get('anon', []), dtype=float) if column == 'rss' else None
        if anon is not None and len(anon) == len(values) and np.isfinite(anon).any():
            ax.plot(*broken_at_gaps(cols['t'], anon), '--', linewidth=1.0, color=line.get_color(),
                    label=f'{node} anon')
        peak = max(peak, float(np.nanmax(values)))
        drawn = True
    if not drawn:
        return False
    if column == 'rss':
        ax.set_ylabel('resident memory (MB)')
        if peak > RSS_WARN_MB / 2:
            ax.axhline(RSS_WARN_MB, color=LEVEL_COLOURS[WARN], linestyle='--',
                       label=f'default WARN {RSS_WARN_MB:.0f} MB')
            ax.axhline(RSS_ERROR_MB, color=LEVEL_COLOURS[ERROR], linestyle='--',
                       label=f'default ERROR {RSS_ERROR_MB:.0f} MB')
    else:
        ax.set_ylabel('CPU (% of one core)')
    ax.set_ylim(bottom=0.0)
    return True


def plot_status_timeline(data: BagData, path: Path) -> Path:
    """Write status_timeline.png: one row per status, coloured by level over time."""
    names = sorted(data.statuses)
    height = max(3.0, 0.38 * len(names) + 1.8)
    fig, (ax,) = new_figure(height=height)
    ax.set_title('/diagnostics status levels (blank: no status received)')
    if names:
        end = data.duration_s
        for row, name in enumerate(names):
            samples = data.statuses[name]
            bars: Dict[int, List[Tuple[float, float]]] = {}
            previous = None  # (level, start, end) of the span being extended
            hold = status_hold([x.t for x in samples])
            for i, s in enumerate(samples):
                nxt = samples[i + 1].t if i + 1 < len(samples) else end
                level = s.level if s.level in LEVEL_COLOURS else STALE
                until = s.t + max(min(nxt - s.t, hold), end / 2000.0, 1e-3)
                if previous and previous[0] == level and s.t <= previous[2] + 1e-9:
                    previous = (level, previous[1], until)
                    bars[level][-1] = (previous[1], until - previous[1])
                    continue
                previous = (level, s.t, until)
                bars.setdefault(level, []).append((s.t, until - s.t))
            for level, spans in bars.items():
                ax.broken_barh(spans, (row - 0.38, 0.76), facecolors=LEVEL_COLOURS[level],
                               linewidth=0)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names, fontsize=9)
        ax.set_ylim(len(names) - 0.5, -0.5)
        mark_events(ax, data, labels=False)
        handles = [Patch(color=LEVEL_COLOURS[level], label=label)
                   for level, label in LEVEL_LABELS.items()]
        handles += [Line2D([], [], color=LEVEL_COLOURS[ERROR], linestyle='--',
                           label='status turns ERROR'),
                    Line2D([], [], color='#7b2cbf', linestyle=':', linewidth=1.6,
                           label='node restart')]
        ax.legend(handles=handles, loc='upper left', bbox_to_anchor=(1.005, 1.0), fontsize=9,
                  borderaxespad=0.0)
    else:
        draw_no_data(ax, 'no /diagnostics messages in the bag')
    time_axis(ax, data)
    return save_figure(fig, path)


def render_plots(data: BagData, output_dir: Path, stats: Optional[dict] = None
                 ) -> Dict[str, Path]:
    """Write every PNG into ``output_dir``; return ``{plot name: path}``."""
    stats = stats if stats is not None else statistics(data)
    output_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    out['target_error'] = plot_target_error(data, output_dir / 'target_error.png', stats)
    out['pan_tilt'] = plot_pan_tilt(data, output_dir / 'pan_tilt.png')
    out['latency'] = plot_latency(data, output_dir / 'latency.png', stats)
    out['camera_fps'] = plot_camera_fps(data, output_dir / 'camera_fps.png')
    out['process_rss'] = plot_process(data, output_dir / 'process_rss.png', 'rss')
    out['process_cpu'] = plot_process(data, output_dir / 'process_cpu.png', 'cpu')
    out['status_timeline'] = plot_status_timeline(data, output_dir / 'status_timeline.png')
    return out
