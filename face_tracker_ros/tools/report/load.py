# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Reading a rosbag2 (MCAP or sqlite3) with rosbags into BagData: no ROS installation needed."""

import math
from pathlib import Path
from typing import Dict, List

from face_tracker_ros.common.status import decode_level, LOG_LEVEL_LABELS
from face_tracker_ros.interface import (
    CAMERA_TASK,
    COMMAND_LATENCY_TOPIC,
    JOINT_STATES_TOPIC,
    PROCESS_TASK_PREFIX,
    SIM_JOINT_STATES_TOPIC,
    SIM_TRUE_TARGET_TOPIC,
    split_status_name,
    TARGET_TOPIC,
    WATCHDOG_TASK_PREFIX,
)
from face_tracker_ros.tools.report.data import (
    BagData,
    columns,
    DIAGNOSTICS_KEY,
    Event,
    ROSOUT_KEY,
    StatusSample,
    topic_key,
    TOPIC_TYPES,
)

#: rcl_interfaces/Log levels.


def _stamp(msg_stamp) -> float:
    return float(msg_stamp.sec) + float(msg_stamp.nanosec) * 1e-9


def _float(text: object) -> float:
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError):
        return math.nan
    return value


def _status_node(name: str) -> str:
    """Return the node a status's ``pid`` belongs to.

    ``"diagnostics: process camera"`` (and ``watchdog camera``) describe the
    camera's process; every other ``"<node>: <task>"`` its own node.
    """
    node, task = split_status_name(name)
    for prefix in (PROCESS_TASK_PREFIX, WATCHDOG_TASK_PREFIX):
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


def _wanted_connections(connections, data: BagData) -> list:
    """Count every topic's messages into ``data.topics``; return the connections to read.

    A topic the report reads with another type than expected is noted and not read.
    """
    wanted = []
    for conn in connections:
        msgtype, count = data.topics.get(conn.topic, (conn.msgtype, 0))
        data.topics[conn.topic] = (msgtype, count + int(conn.msgcount or 0))
        key = topic_key(conn.topic)
        if key is None:
            continue
        if conn.msgtype != TOPIC_TYPES[key]:
            data.notes.append(f'{conn.topic} has type {conn.msgtype}, expected '
                              f'{TOPIC_TYPES[key]}: not used')
            continue
        wanted.append(conn)
    return wanted


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
        wanted = _wanted_connections(reader.connections, data)
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
                    readers.feed(topic_key(conn.topic), (timestamp - data.start_ns) / 1e9,
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
        self._handlers = {
            TARGET_TOPIC: lambda t, msg: self._point(data.target, t, msg),
            SIM_TRUE_TARGET_TOPIC: lambda t, msg: self._point(data.truth, t, msg),
            JOINT_STATES_TOPIC: lambda t, msg: self._joints(data.joints, t, msg),
            SIM_JOINT_STATES_TOPIC: lambda t, msg: self._joints(data.sim_joints, t, msg),
            COMMAND_LATENCY_TOPIC: self._latency,
            DIAGNOSTICS_KEY: self._diagnostics,
            ROSOUT_KEY: self._rosout,
        }

    def feed(self, key: str, t: float, msg) -> None:
        handler = self._handlers.get(key)
        if handler is not None:
            handler(t, msg)

    @staticmethod
    def _point(cols: Dict[str, List[float]], t: float, msg) -> None:
        for name, value in (('t', t), ('x', msg.point.x), ('y', msg.point.y),
                            ('z', msg.point.z)):
            cols[name].append(float(value))

    @staticmethod
    def _joints(cols: Dict[str, List[float]], t: float, msg) -> None:
        names = list(msg.name)
        positions = list(msg.position)
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

    def _latency(self, t: float, msg) -> None:
        latency_ms = (_stamp(msg.header.stamp) - _stamp(msg.time_ref)) * 1e3
        if math.isfinite(latency_ms):
            self.data.latency['t'].append(t)
            self.data.latency['ms'].append(latency_ms)

    def _diagnostics(self, t: float, msg) -> None:
        for status in msg.status:
            self._status(t, status)

    def _rosout(self, t: float, msg) -> None:
        d = self.data
        level = LOG_LEVEL_LABELS.get(int(msg.level), str(msg.level))
        d.log_counts[level] = d.log_counts.get(level, 0) + 1
        if int(msg.level) >= 40:
            d.logs.append((t, level, str(msg.name), str(msg.msg)))

    def _status(self, t: float, status) -> None:
        """Record one status: level timeline, fps, process figures, pid changes."""
        d = self.data
        level = decode_level(status.level)
        name = str(status.name)
        d.statuses.setdefault(name, []).append(StatusSample(t, level, str(status.message)))
        values = {str(kv.key): str(kv.value) for kv in status.values}
        node, task = split_status_name(name)
        if task == CAMERA_TASK and 'fps' in values:
            d.fps['t'].append(t)
            d.fps['fps'].append(_float(values['fps']))
            d.fps['configured'].append(_float(values.get('fps_configured')))
        watched = task[len(PROCESS_TASK_PREFIX):]
        if task.startswith(PROCESS_TASK_PREFIX):
            # A process that is not running has no figures: NaN breaks its line there.
            proc = d.processes.setdefault(watched, columns('t rss anon cpu'))
            proc['t'].append(t)
            proc['rss'].append(_float(values.get('rss_mb')))
            proc['anon'].append(_float(values.get('anon_mb')))
            proc['cpu'].append(_float(values.get('cpu_percent')))
        if task.startswith(PROCESS_TASK_PREFIX) and values.get('restarts', '').isdigit():
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
