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
"""

import argparse
from dataclasses import dataclass, field
import datetime
import math
from pathlib import Path
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
import numpy as np

#: Topics read (names without the leading slash; a namespaced name matches by suffix).
TOPIC_TYPES = {
    'face/target': 'geometry_msgs/msg/PointStamped',
    'sim/true_target': 'geometry_msgs/msg/PointStamped',
    'joint_states': 'sensor_msgs/msg/JointState',
    'sim/joint_states': 'sensor_msgs/msg/JointState',
    'servo/command_latency': 'sensor_msgs/msg/TimeReference',
    'diagnostics': 'diagnostic_msgs/msg/DiagnosticArray',
    'rosout': 'rcl_interfaces/msg/Log',
}
PLOTS = ('target_error', 'pan_tilt', 'latency', 'camera_fps', 'process_rss', 'process_cpu',
         'status_timeline')
LEVEL_NAMES = {0: 'OK', 1: 'WARN', 2: 'ERROR', 3: 'STALE'}
LEVEL_COLOURS = {0: '#2ca02c', 1: '#ff9f1c', 2: '#d62728', 3: '#8c8c8c'}
LOG_LEVELS = {10: 'DEBUG', 20: 'INFO', 30: 'WARN', 40: 'ERROR', 50: 'FATAL'}
#: At most this long does a status sample colour the timeline (then: no status received).
STATUS_HOLD_S = 5.0
#: Default process thresholds of the diagnostics node (README "Diagnostics").
RSS_WARN_MB, RSS_ERROR_MB = 400.0, 600.0
MAX_LOG_LINES = 10


@dataclass
class StatusSample:
    """One status of one /diagnostics message."""

    t: float
    level: int
    message: str


@dataclass
class Event:
    """Something that went wrong at ``t`` seconds from the bag start."""

    t: float
    kind: str
    what: str
    detail: str = ''


@dataclass
class BagData:
    """Everything the report needs, read from one bag; times in seconds from its start."""

    path: Path
    start_ns: int = 0
    end_ns: int = 0
    topics: Dict[str, Tuple[str, int]] = field(default_factory=dict)
    target: Dict[str, List[float]] = field(default_factory=lambda: _columns('t x y z'))
    truth: Dict[str, List[float]] = field(default_factory=lambda: _columns('t x y z'))
    joints: Dict[str, List[float]] = field(default_factory=lambda: _columns('t pan tilt'))
    sim_joints: Dict[str, List[float]] = field(default_factory=lambda: _columns('t pan tilt'))
    latency: Dict[str, List[float]] = field(default_factory=lambda: _columns('t ms'))
    fps: Dict[str, List[float]] = field(default_factory=lambda: _columns('t fps configured'))
    statuses: Dict[str, List[StatusSample]] = field(default_factory=dict)
    processes: Dict[str, Dict[str, List[float]]] = field(default_factory=dict)
    restarts: List[Event] = field(default_factory=list)
    restart_counters: Dict[str, int] = field(default_factory=dict)
    logs: List[Tuple[float, str, str, str]] = field(default_factory=list)
    log_counts: Dict[str, int] = field(default_factory=dict)
    undecodable: int = 0
    notes: List[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """Return the bag's length in seconds."""
        return max(0.0, (self.end_ns - self.start_ns) / 1e9)

    def error_events(self) -> List[Event]:
        """Return every moment a status turned ERROR (from a lower level), in time order."""
        events = []
        for name, samples in self.statuses.items():
            previous = None
            for s in samples:
                if s.level == 2 and previous != 2:
                    events.append(Event(s.t, 'status ERROR', name, s.message))
                previous = s.level
        return sorted(events, key=lambda e: e.t)


@dataclass
class ReportResult:
    """What make_report() wrote."""

    output_dir: Path
    plots: Dict[str, Path]
    summary: Path
    data: BagData


def _columns(names: str) -> Dict[str, List[float]]:
    return {name: [] for name in names.split()}


# --------------------------------------------------------------------------- reading
def _stamp(msg_stamp) -> float:
    return float(msg_stamp.sec) + float(msg_stamp.nanosec) * 1e-9


def _float(text: object) -> float:
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError):
        return math.nan
    return value


def _topic_key(topic: str) -> Optional[str]:
    """Return the TOPIC_TYPES key a bag topic stands for (the longest suffix match)."""
    name = topic.lstrip('/')
    best = None
    for key in TOPIC_TYPES:
        if name == key or name.endswith('/' + key):
            if best is None or len(key) > len(best):
                best = key
    return best


def _status_node(name: str) -> str:
    """Return the node a status's ``pid`` belongs to.

    ``"diagnostics: process camera"`` (and ``watchdog camera``) describe the
    camera's process; every other ``"<node>: <task>"`` its own node.
    """
    node, _, task = name.partition(': ')
    for prefix in ('process ', 'watchdog '):
        if task.startswith(prefix) and task[len(prefix):].strip():
            return task[len(prefix):].strip()
    return node


def resolve_bag(path: Path) -> Path:
    """Return what rosbags should open for ``path``; raise FileNotFoundError if absent.

    A directory without ``metadata.yaml`` (a bag still being written) holding
    exactly one ``.mcap`` or ``.db3`` file is read through that file.
    """
    if not path.exists():
        raise FileNotFoundError(f'bag not found: {path}')
    if path.is_dir() and not (path / 'metadata.yaml').exists():
        files = sorted(list(path.glob('*.mcap')) + list(path.glob('*.db3')))
        if len(files) == 1:
            return files[0]
    return path


def load_bag(path: Path) -> BagData:
    """Read the topics the report uses from a bag.

    Raises FileNotFoundError for a missing path and ValueError (with the
    reason) for something rosbags cannot open; undecodable messages are
    counted in ``undecodable`` and skipped.
    """
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import get_typestore, Stores

    path = Path(path)
    source = resolve_bag(path)
    fallback = get_typestore(Stores.ROS2_KILTED)
    data = BagData(path=path)
    try:
        reader = AnyReader([source], default_typestore=fallback)
        reader.open()
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - rosbags raises many kinds for a bad bag
        raise ValueError(f'cannot open the bag {path}: {type(exc).__name__}: {exc}') from exc
    try:
        data.start_ns, data.end_ns = int(reader.start_time), int(reader.end_time)
        if data.end_ns < data.start_ns:
            data.start_ns = data.end_ns = 0
        wanted = []
        for conn in reader.connections:
            msgtype, count = data.topics.get(conn.topic, (conn.msgtype, 0))
            data.topics[conn.topic] = (msgtype, count + int(conn.msgcount or 0))
            key = _topic_key(conn.topic)
            if key is None:
                continue
            if conn.msgtype != TOPIC_TYPES[key]:
                data.notes.append(f'{conn.topic} has type {conn.msgtype}, expected '
                                  f'{TOPIC_TYPES[key]}: not used')
                continue
            wanted.append(conn)
        readers = _Dispatch(data)
        count = 0
        try:
            for conn, timestamp, raw in reader.messages(connections=wanted):
                count += 1
                msg = _decode(reader, fallback, raw, conn.msgtype)
                if msg is None:
                    data.undecodable += 1
                    continue
                try:
                    readers.feed(_topic_key(conn.topic), (timestamp - data.start_ns) / 1e9,
                                 msg)
                except (AttributeError, TypeError, ValueError, IndexError):
                    data.undecodable += 1
        except Exception as exc:  # noqa: BLE001 - a truncated bag still gives its first part
            data.notes.append(f'reading stopped after {count} messages: '
                              f'{type(exc).__name__}: {exc}')
    finally:
        reader.close()
    return data


def _decode(reader, fallback, raw: bytes, msgtype: str):
    try:
        return reader.deserialize(raw, msgtype)
    except Exception:  # noqa: BLE001 - try the built-in definitions, then give up
        pass
    try:
        return fallback.deserialize_cdr(raw, msgtype)
    except Exception:  # noqa: BLE001 - a corrupt message is counted, never raised
        return None


class _Dispatch:
    """Turns decoded messages into the BagData columns."""

    def __init__(self, data: BagData):
        self.data = data
        self._pids: Dict[str, List[int]] = {}
        self._own: Dict[str, int] = {}

    def feed(self, key: str, t: float, msg) -> None:
        d = self.data
        if key in ('face/target', 'sim/true_target'):
            cols = d.target if key == 'face/target' else d.truth
            for name, value in (('t', t), ('x', msg.point.x), ('y', msg.point.y),
                                ('z', msg.point.z)):
                cols[name].append(float(value))
        elif key in ('joint_states', 'sim/joint_states'):
            names = list(msg.name)
            positions = list(msg.position)
            cols = d.joints if key == 'joint_states' else d.sim_joints
            angle = {}
            for joint in ('pan', 'tilt'):
                index = names.index(joint) if joint in names else -1
                angle[joint] = float(positions[index]) if 0 <= index < len(positions) \
                    else math.nan
            if math.isnan(angle['pan']) and math.isnan(angle['tilt']):
                return
            cols['t'].append(t)
            cols['pan'].append(angle['pan'])
            cols['tilt'].append(angle['tilt'])
        elif key == 'servo/command_latency':
            latency_ms = (_stamp(msg.header.stamp) - _stamp(msg.time_ref)) * 1e3
            if math.isfinite(latency_ms):
                d.latency['t'].append(t)
                d.latency['ms'].append(latency_ms)
        elif key == 'diagnostics':
            for status in msg.status:
                self._status(t, status)
        elif key == 'rosout':
            level = LOG_LEVELS.get(int(msg.level), str(msg.level))
            d.log_counts[level] = d.log_counts.get(level, 0) + 1
            if int(msg.level) >= 40:
                d.logs.append((t, level, str(msg.name), str(msg.msg)))

    def _status(self, t: float, status) -> None:
        """Record one status: level timeline, fps, process figures, pid changes."""
        d = self.data
        level = int(status.level)
        name = str(status.name)
        d.statuses.setdefault(name, []).append(StatusSample(t, level, str(status.message)))
        values = {str(kv.key): str(kv.value) for kv in status.values}
        node, _, task = name.partition(': ')
        if task == 'camera' and 'fps' in values:
            d.fps['t'].append(t)
            d.fps['fps'].append(_float(values['fps']))
            d.fps['configured'].append(_float(values.get('fps_configured')))
        if task.startswith('process '):
            # A process that is not running has no figures: NaN breaks its line there.
            proc = d.processes.setdefault(task[len('process '):], _columns('t rss anon cpu'))
            proc['t'].append(t)
            proc['rss'].append(_float(values.get('rss_mb')))
            proc['anon'].append(_float(values.get('anon_mb')))
            proc['cpu'].append(_float(values.get('cpu_percent')))
        if task.startswith('process ') and values.get('restarts', '').isdigit():
            watched = task[len('process '):]
            d.restart_counters[watched] = max(d.restart_counters.get(watched, 0),
                                              int(values['restarts']))
        pid = values.get('pid', '').strip()
        if not pid.isdigit() or int(pid) <= 0:
            return
        owner = _status_node(name)
        if owner == node:
            self._own[node] = int(pid)
        elif int(pid) == self._own.get(node) or not ('rss_mb' in values or
                                                     'uptime_s' in values):
            # A status about another node's process without a sampled process (it is
            # not running) carries the publishing node's own pid: not the watched one.
            return
        seen = self._pids.setdefault(owner, [])
        if int(pid) not in seen:
            if seen:
                d.restarts.append(Event(t, 'restart', owner,
                                        f'pid {seen[-1]} -> {pid} (seen in "{name}")'))
            seen.append(int(pid))


# ------------------------------------------------------------------------- statistics
def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """Return the ``q``-th percentile of the finite values, or None without any."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    return float(np.percentile(np.asarray(finite), q))


def rms(values: Sequence[float]) -> Optional[float]:
    """Return the root mean square of the finite values, or None without any."""
    finite = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if finite.size == 0:
        return None
    return float(np.sqrt(np.mean(finite ** 2)))


def statistics(data: BagData) -> dict:
    """Return the figures of the summary (None where the bag has no data for one)."""
    z = data.target['z']
    faces = [i for i, v in enumerate(z) if v > 0]
    offsets = [math.hypot(data.target['x'][i], data.target['y'][i]) for i in faces]
    in_view = [v for v in data.truth['z'] if v >= 0]
    ms = data.latency['ms']
    return {
        'frames': len(z),
        'frames_with_face': len(faces),
        'detector_offset_rms': rms(offsets),
        'truth_frames': len(data.truth['z']),
        'truth_in_view': len(in_view),
        'truth_error_rms': rms(in_view),
        'truth_error_max': max(in_view) if in_view else None,
        'latency_n': len(ms),
        'latency_p50_ms': percentile(ms, 50),
        'latency_p99_ms': percentile(ms, 99),
        'latency_max_ms': max(ms) if ms else None,
        'fps_mean': _mean(data.fps['fps']),
        'fps_min': min((v for v in data.fps['fps'] if math.isfinite(v)), default=None),
    }


def _mean(values: Sequence[float]) -> Optional[float]:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def status_summary(data: BagData) -> List[dict]:
    """Return per status: worst level, when first reached, its message and time at ERROR."""
    rows = []
    end = data.duration_s
    for name, samples in sorted(data.statuses.items()):
        worst = max(samples, key=lambda s: (s.level if s.level != 3 else 1.5, -s.t))
        error_s = 0.0
        hold = _status_hold([s.t for s in samples])
        for i, s in enumerate(samples):
            if s.level != 2:
                continue
            nxt = samples[i + 1].t if i + 1 < len(samples) else end
            error_s += max(0.0, min(nxt - s.t, hold))
        rows.append({'name': name, 'worst': worst.level, 'worst_name':
                     LEVEL_NAMES.get(worst.level, str(worst.level)), 't': worst.t,
                     'message': worst.message, 'samples': len(samples),
                     'error_s': error_s,
                     'last': LEVEL_NAMES.get(samples[-1].level, str(samples[-1].level))})
    rows.sort(key=lambda r: (-(r['worst'] if r['worst'] != 3 else 1.5), r['name']))
    return rows


# -------------------------------------------------------------------------- plotting
def _figure(rows: int = 1, height: float = 4.6, width: float = 12.0):
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(str(path), dpi=100)
    return path


def _no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, f'no data\n{text}', ha='center', va='center', fontsize=16,
            color='#555555', transform=ax.transAxes)
    ax.set_yticks([])


def _time_axis(ax, data: BagData, last: bool = True) -> None:
    ax.set_xlim(0.0, max(data.duration_s, 1e-3))
    ax.grid(True, alpha=0.3)
    if last:
        ax.set_xlabel('time since bag start (s)')


def _mark_events(ax, data: BagData, labels: bool = True) -> None:
    """Draw a red dashed line where a status turns ERROR and a purple one at a restart."""
    first_error = first_restart = True
    for event in data.error_events():
        ax.axvline(event.t, color=LEVEL_COLOURS[2], linestyle='--', linewidth=1.2, alpha=0.8,
                   label='status turns ERROR' if labels and first_error else None)
        first_error = False
    for event in data.restarts:
        ax.axvline(event.t, color='#7b2cbf', linestyle=':', linewidth=1.6,
                   label='node restart' if labels and first_restart else None)
        first_restart = False


def _spans(t: Sequence[float], mask: Sequence[bool]) -> List[Tuple[float, float]]:
    """Return ``(start, end)`` times of the runs of consecutive samples where mask is True."""
    spans = []
    start = None
    for i, flag in enumerate(mask):
        if flag and start is None:
            start = t[i]
        if not flag and start is not None:
            spans.append((start, t[i]))
            start = None
    if start is not None:
        spans.append((start, t[-1]))
    return spans


def _gap_threshold(t: np.ndarray) -> float:
    """Return the pause between samples taken as a gap: 5 typical periods, at least 0.5 s."""
    if t.size < 3:
        return math.inf
    return max(0.5, 5.0 * float(np.median(np.diff(t))))


def _gaps(t: Sequence[float]) -> List[Tuple[float, float]]:
    """Return ``(start, end)`` of the pauses in a message stream (see _gap_threshold)."""
    times = np.asarray(t, dtype=float)
    if times.size < 3:
        return []
    limit = _gap_threshold(times)
    idx = np.nonzero(np.diff(times) > limit)[0]
    return [(float(times[i]), float(times[i + 1])) for i in idx]


def _broken(t: Sequence[float], *columns: Sequence[float]) -> List[np.ndarray]:
    """Return ``t`` and ``columns`` with a NaN row in every gap, so lines do not bridge it."""
    times = np.asarray(t, dtype=float)
    arrays = [np.asarray(c, dtype=float) for c in columns]
    if times.size < 3:
        return [times] + arrays
    cut = np.nonzero(np.diff(times) > _gap_threshold(times))[0] + 1
    if cut.size == 0:
        return [times] + arrays
    out_t = np.insert(times, cut, (times[cut - 1] + times[cut]) / 2.0)
    return [out_t] + [np.insert(a, cut, np.nan) for a in arrays]


def _legend(ax, right: float = 1.005) -> None:
    """Put the legend right of the axes (``right`` in axes widths), never over the data."""
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc='upper left', bbox_to_anchor=(right, 1.0), fontsize=9,
                  borderaxespad=0.0)


def plot_target_error(data: BagData, path: Path, stats: dict) -> Path:
    """Write target_error.png: the detector's offset and the distance from the centre."""
    fig, (top, bottom) = _figure(2, height=7.0)
    t = np.asarray(data.target['t'])
    z = np.asarray(data.target['z'])
    if t.size:
        face = z > 0
        x = np.where(face, data.target['x'], np.nan)
        y = np.where(face, data.target['y'], np.nan)
        bt, bx, by = _broken(t, x, y)
        top.plot(bt, bx, color='#1f77b4', linewidth=1.2, label='x (right +)')
        top.plot(bt, by, color='#ff7f0e', linewidth=1.2, label='y (down +)')
        first = True
        for a, b in _spans(list(t), list(~face)):
            top.axvspan(a, b, color='#bbbbbb', alpha=0.5, linewidth=0,
                        label='no face detected' if first else None)
            first = False
        first = True
        for a, b in _gaps(t):
            top.axvspan(a, b, color='#ffe08a', alpha=0.6, linewidth=0,
                        label='no face/target messages' if first else None)
            first = False
        top.set_ylim(-1.05, 1.05)
        top.set_ylabel('offset (image half-widths)')
        rate = 100.0 * stats['frames_with_face'] / max(1, stats['frames'])
        top.set_title(f'Face offset seen by the detector (face/target): '
                      f"{stats['frames_with_face']} of {stats['frames']} frames with a face "
                      f'({rate:.0f} %)')
        _mark_events(top, data)
    else:
        top.set_title('Face offset seen by the detector (face/target)')
        _no_data(top, 'no face/target messages in the bag')
    _time_axis(top, data, last=False)
    _legend(top)

    tt = np.asarray(data.truth['t'])
    if tt.size or t.size:
        if tt.size:
            tz = np.asarray(data.truth['z'])
            bottom.plot(*_broken(tt, np.where(tz >= 0, tz, np.nan)), color='black',
                        linewidth=1.4, label='true distance (sim/true_target)')
            first = True
            for a, b in _spans(list(tt), list(tz < 0)):
                bottom.axvspan(a, b, color='#f4a6a6', alpha=0.5, linewidth=0,
                               label='face out of view' if first else None)
                first = False
        if t.size:
            face = z > 0
            seen = np.where(face, np.hypot(data.target['x'], data.target['y']), np.nan)
            bottom.plot(*_broken(t, seen), color='#1f77b4', linewidth=0.9, alpha=0.8,
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
        _mark_events(bottom, data, labels=False)
    else:
        bottom.set_title('Distance of the face from the image centre')
        _no_data(bottom, 'no face/target or sim/true_target messages')
    _time_axis(bottom, data)
    _legend(bottom)
    return _save(fig, path)


def plot_pan_tilt(data: BagData, path: Path) -> Path:
    """Write pan_tilt.png: commanded and (in simulation) true pan and tilt angles."""
    fig, (ax,) = _figure()
    ax.set_title('Pan and tilt (joint_states: commanded; sim/joint_states: true)')
    if data.joints['t'] or data.sim_joints['t']:
        for cols, style, source in ((data.joints, '-', 'commanded'),
                                    (data.sim_joints, '--', 'true')):
            if not cols['t']:
                continue
            bt, pan, tilt = _broken(cols['t'], cols['pan'], cols['tilt'])
            ax.plot(bt, pan, style, color='#1f77b4', linewidth=1.3, label=f'pan {source}')
            ax.plot(bt, tilt, style, color='#d62728', linewidth=1.3, label=f'tilt {source}')
        ax.set_ylabel('angle (rad)\npan + = left, tilt + = down')
        secondary = ax.secondary_yaxis('right', functions=(np.degrees, np.radians))
        secondary.set_ylabel('angle (degrees)')
        _mark_events(ax, data)
    else:
        _no_data(ax, 'no joint_states messages in the bag')
    _time_axis(ax, data)
    _legend(ax, right=1.08)
    return _save(fig, path)


def plot_latency(data: BagData, path: Path, stats: dict) -> Path:
    """Write latency.png: capture -> servo command latency with its p50 and p99."""
    fig, (ax,) = _figure()
    t = np.asarray(data.latency['t'])
    ms = np.asarray(data.latency['ms'])
    if t.size:
        p50, p99 = stats['latency_p50_ms'], stats['latency_p99_ms']
        ax.set_title(f'Capture -> servo command latency (servo/command_latency): '
                     f'p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ms.max():.1f} ms, n {ms.size}')
        top = max(p99 * 1.5, p50 * 4.0, 1.0)
        top = min(top, float(ms.max()) * 1.05) if ms.max() > 0 else top
        inside = ms <= top
        ax.plot(t[inside], ms[inside], '.', color='#1f77b4', markersize=3,
                label='one command')
        if (~inside).any():
            ax.plot(t[~inside], np.full((~inside).sum(), top * 0.98), '^', color='#d62728',
                    markersize=6, label=f'above {top:.0f} ms (clipped)')
        ax.axhline(p50, color='#2ca02c', linewidth=1.5, label=f'p50 {p50:.1f} ms')
        ax.axhline(p99, color='#ff7f0e', linewidth=1.5, linestyle='--',
                   label=f'p99 {p99:.1f} ms')
        ax.set_ylim(min(0.0, float(ms.min())), top)
        ax.set_ylabel('latency (ms)')
        _mark_events(ax, data)
    else:
        ax.set_title('Capture -> servo command latency (servo/command_latency)')
        _no_data(ax, 'no servo/command_latency messages in the bag')
    _time_axis(ax, data)
    _legend(ax)
    return _save(fig, path)


def _rate_per_second(t: Sequence[float], duration: float) -> Tuple[np.ndarray, np.ndarray]:
    edges = np.arange(0.0, max(duration, 1.0) + 1.0, 1.0)
    counts, _ = np.histogram(np.asarray(t), bins=edges)
    return edges[:-1] + 0.5, counts.astype(float)


def plot_camera_fps(data: BagData, path: Path) -> Path:
    """Write camera_fps.png: measured camera rate, its configured rate, detector output rate."""
    fig, (ax,) = _figure()
    ax.set_title('Frame rates: camera (status "camera: camera", fps over 5 s) and detector '
                 '(face/target per second)')
    if data.fps['t'] or data.target['t']:
        if data.fps['t']:
            ax.plot(*_broken(data.fps['t'], data.fps['fps']), '-o', color='#1f77b4',
                    markersize=3, linewidth=1.5, label='camera measured fps')
            configured = [v for v in data.fps['configured'] if math.isfinite(v)]
            if configured:
                ax.plot(data.fps['t'], data.fps['configured'], '--', color='#555555',
                        linewidth=1.2, label='camera configured fps')
        if data.target['t']:
            centres, counts = _rate_per_second(data.target['t'], data.duration_s)
            ax.step(centres, counts, where='mid', color='#ff7f0e', linewidth=1.1,
                    label='detector results per second')
        ax.set_ylim(bottom=0.0)
        ax.set_ylabel('rate (frames per second, Hz)')
        _mark_events(ax, data)
    else:
        _no_data(ax, 'no camera status (fps) and no face/target messages')
    _time_axis(ax, data)
    _legend(ax)
    return _save(fig, path)


def plot_process(data: BagData, path: Path, column: str) -> Path:
    """Write process_rss.png (``column`` 'rss') or process_cpu.png ('cpu') per node.

    The memory plot draws each node's anonymous memory (heap, stacks: where a
    leak of its own shows) dashed in the node's colour under its RSS.
    """
    fig, (ax,) = _figure()
    what = 'memory (RSS; dashed: its anonymous part)' if column == 'rss' else 'CPU'
    ax.set_title(f'Process {what} per node (status "diagnostics: process <node>")')
    drawn = False
    peak = 0.0
    for node, cols in sorted(data.processes.items()):
        values = np.asarray(cols[column], dtype=float)
        if not np.isfinite(values).any():
            continue
        line, = ax.plot(*_broken(cols['t'], values), '-o', markersize=2.5, linewidth=1.4,
                        label=node)
        anon = np.asarray(cols.get('anon', []), dtype=float) if column == 'rss' else None
        if anon is not None and len(anon) == len(values) and np.isfinite(anon).any():
            ax.plot(*_broken(cols['t'], anon), '--', linewidth=1.0, color=line.get_color(),
                    label=f'{node} anon')
        peak = max(peak, float(np.nanmax(values)))
        drawn = True
    if drawn:
        if column == 'rss':
            ax.set_ylabel('resident memory (MB)')
            if peak > RSS_WARN_MB / 2:
                ax.axhline(RSS_WARN_MB, color=LEVEL_COLOURS[1], linestyle='--',
                           label=f'default WARN {RSS_WARN_MB:.0f} MB')
                ax.axhline(RSS_ERROR_MB, color=LEVEL_COLOURS[2], linestyle='--',
                           label=f'default ERROR {RSS_ERROR_MB:.0f} MB')
        else:
            ax.set_ylabel('CPU (% of one core)')
        ax.set_ylim(bottom=0.0)
        _mark_events(ax, data)
    else:
        _no_data(ax, 'no "diagnostics: process <node>" statuses with figures')
    _time_axis(ax, data)
    _legend(ax)
    return _save(fig, path)


def _status_hold(times: Sequence[float]) -> float:
    """Return how long one status sample colours its row: 2.5 periods, 1.5 to 5 s."""
    if len(times) < 3:
        return STATUS_HOLD_S
    return max(1.5, min(STATUS_HOLD_S, 2.5 * float(np.median(np.diff(times)))))


def plot_status_timeline(data: BagData, path: Path) -> Path:
    """Write status_timeline.png: one row per status, coloured by level over time."""
    names = sorted(data.statuses)
    height = max(3.0, 0.38 * len(names) + 1.8)
    fig, (ax,) = _figure(height=height)
    ax.set_title('/diagnostics status levels (blank: no status received)')
    if names:
        end = data.duration_s
        for row, name in enumerate(names):
            samples = data.statuses[name]
            bars: Dict[int, List[Tuple[float, float]]] = {}
            previous = None  # (level, start, end) of the span being extended
            hold = _status_hold([x.t for x in samples])
            for i, s in enumerate(samples):
                nxt = samples[i + 1].t if i + 1 < len(samples) else end
                level = s.level if s.level in LEVEL_COLOURS else 3
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
        _mark_events(ax, data, labels=False)
        handles = [Patch(color=LEVEL_COLOURS[level], label=label)
                   for level, label in LEVEL_NAMES.items()]
        handles += [Line2D([], [], color=LEVEL_COLOURS[2], linestyle='--',
                           label='status turns ERROR'),
                    Line2D([], [], color='#7b2cbf', linestyle=':', linewidth=1.6,
                           label='node restart')]
        ax.legend(handles=handles, loc='upper left', bbox_to_anchor=(1.005, 1.0), fontsize=9,
                  borderaxespad=0.0)
    else:
        _no_data(ax, 'no /diagnostics messages in the bag')
    _time_axis(ax, data)
    return _save(fig, path)


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


# --------------------------------------------------------------------------- summary
def _clock(data: BagData, t: float) -> str:
    stamp = datetime.datetime.fromtimestamp(data.start_ns / 1e9 + t, tz=datetime.timezone.utc)
    return stamp.strftime('%H:%M:%S.%f')[:-3] + 'Z'


def _at(data: BagData, t: float) -> str:
    return f't={t:.1f} s ({_clock(data, t)})'


def _num(value: Optional[float], fmt: str, unit: str = '') -> str:
    return 'n/a' if value is None else f'{value:{fmt}}{unit}'


def _cell(text: str) -> str:
    return text.replace('|', '\\|').replace('\n', ' ')


def summary_markdown(data: BagData, plots: Dict[str, Path], stats: Optional[dict] = None
                     ) -> str:
    """Return summary.md: what went wrong and when, figures, and links to the plots."""
    stats = stats if stats is not None else statistics(data)
    errors = data.error_events()
    statuses = status_summary(data)
    start = datetime.datetime.fromtimestamp(data.start_ns / 1e9, tz=datetime.timezone.utc)
    end = datetime.datetime.fromtimestamp(data.end_ns / 1e9, tz=datetime.timezone.utc)
    lines = [f'# Report: {data.path.name}', '']

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
    lines += ['## What went wrong', ''] + [f'- {v}' for v in verdict] + ['']

    lines += ['## Time span and counts', '',
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
    lines.append('')

    lines += ['## Status levels', '']
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

    lines += ['## Node restarts', '']
    if data.restarts:
        lines += [f'- {_at(data, e.t)} **{e.what}** restarted: {e.detail}'
                  for e in data.restarts]
    else:
        lines.append('No pid change seen in the statuses.')
    if data.restart_counters:
        lines.append('- Restarts counted by the diagnostics node over its lifetime: ' +
                     ', '.join(f'{k} {v}' for k, v in sorted(data.restart_counters.items())))
    lines.append('')

    lines += ['## ERROR and FATAL log lines', '']
    if data.logs:
        lines += [f'- {_at(data, t)} {level} [{name}] {_cell(msg)[:300]}'
                  for t, level, name, msg in data.logs[:MAX_LOG_LINES]]
        if len(data.logs) > MAX_LOG_LINES:
            lines.append(f'- ... and {len(data.logs) - MAX_LOG_LINES} more')
    else:
        lines.append('None recorded on /rosout.' if 'rosout' in
                     {_topic_key(t) for t in data.topics} else 'No /rosout in the bag.')
    lines.append('')

    lines += ['## Plots', '']
    titles = {'target_error': 'Target error', 'pan_tilt': 'Pan and tilt',
              'latency': 'Capture -> command latency', 'camera_fps': 'Camera frame rate',
              'process_rss': 'Process memory (RSS)', 'process_cpu': 'Process CPU',
              'status_timeline': 'Status timeline'}
    for name, path in plots.items():
        lines += [f'### {titles.get(name, name)}', '', f'![{titles.get(name, name)}]'
                  f'({path.name})', '']
    return '\n'.join(lines)


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


if __name__ == '__main__':
    sys.exit(main())
