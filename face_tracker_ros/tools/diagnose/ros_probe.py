# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The ROS graph probe: a short-lived rclpy node in a subprocess, killed at its timeout.

``probe_ros_graph()`` starts ``python -m face_tracker_ros.tools.diagnose --ros-probe
DISCOVERY_S,WINDOW_S``; that process (``ros_probe_child()``, the only place rclpy is
imported) waits for discovery, prints the graph, measures the rates of RATE_TOPICS and
keeps the latest /diagnostics statuses, then prints everything again.  A DDS problem
cannot hang the tool: the parent keeps the last answer it got.
"""

import json
import os
from pathlib import Path
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

from face_tracker_ros.common.status import decode_level, level_label
from face_tracker_ros.interface import (
    DIAGNOSTICS_TOPIC,
    IMAGE_TOPIC,
    JOINT_STATES_TOPIC,
    TARGET_TOPIC,
)
from face_tracker_ros.tools.diagnose.util import json_safe, kill_session

#: Topics whose rate the ROS probe measures (matched as name suffixes, so namespaces work).
RATE_TOPICS = (IMAGE_TOPIC, TARGET_TOPIC, JOINT_STATES_TOPIC, DIAGNOSTICS_TOPIC.lstrip('/'))
PROBE_MARKER = 'FACE_TRACKER_DIAGNOSE_ROS '
#: At most this many topics are measured.
MAX_MEASURED = 8
#: Message types the probe subscribes to: ``type name: (module, class)``.
KNOWN_TYPES = {
    'sensor_msgs/msg/Image': ('sensor_msgs.msg', 'Image'),
    'geometry_msgs/msg/PointStamped': ('geometry_msgs.msg', 'PointStamped'),
    'sensor_msgs/msg/JointState': ('sensor_msgs.msg', 'JointState'),
    'diagnostic_msgs/msg/DiagnosticArray': ('diagnostic_msgs.msg', 'DiagnosticArray'),
}


def _emit(payload: dict) -> None:
    sys.stdout.write(PROBE_MARKER + json.dumps(json_safe(payload)) + '\n')
    sys.stdout.flush()


def _is_rate_topic(topic: str) -> bool:
    return any(topic == '/' + s or topic.endswith('/' + s) for s in RATE_TOPICS)


class _GraphProbe:
    """The probe subprocess's node: graph discovery, topic rates and /diagnostics."""

    def __init__(self, rclpy):
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

        self._rclpy = rclpy
        self.context = rclpy.Context()
        rclpy.init(context=self.context, args=[])
        self.name = f'face_tracker_diagnose_{os.getpid()}'
        self.node = rclpy.create_node(self.name, context=self.context, enable_rosout=False,
                                      start_parameter_services=False)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.arrivals: Dict[str, List[float]] = {}
        self.statuses: Dict[str, dict] = {}
        self.rates: Dict[str, dict] = {}
        self.reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE,
                                   durability=DurabilityPolicy.VOLATILE,
                                   history=HistoryPolicy.KEEP_LAST)

    def spin_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=min(0.05, max(0.0, end - time.monotonic())))

    def graph(self) -> Tuple[List[str], List[dict]]:
        node = self.node
        nodes = sorted((ns.rstrip('/') + '/' + n) for n, ns in
                       node.get_node_names_and_namespaces() if n != self.name)
        topics = []
        for topic, types in sorted(node.get_topic_names_and_types()):
            topics.append({'name': topic, 'types': list(types),
                           'publishers': node.count_publishers(topic),
                           'subscribers': node.count_subscribers(topic)})
        return nodes, topics

    def discover(self, discovery_s: float) -> None:
        """Wait until the node list is non-empty and stable, or the time is up.

        A quiet participant may only be seen at its next announcement (Fast DDS: every 3 s).
        """
        end = time.monotonic() + discovery_s
        last, stable_since = None, time.monotonic()
        while time.monotonic() < end:
            self.spin_for(0.1)
            current = sorted(n for n, _ in self.node.get_node_names_and_namespaces()
                             if n != self.name)
            if current != last:
                last, stable_since = current, time.monotonic()
            elif current and time.monotonic() - stable_since > 1.0:
                break

    def on_diagnostics(self, stamps: List[float], msg) -> None:
        stamps.append(time.monotonic())
        for status in msg.status:
            level = decode_level(status.level)
            self.statuses[status.name] = {
                'name': status.name, 'level': level, 'level_name': level_label(level),
                'message': status.message, 'hardware_id': status.hardware_id,
                'received': time.time(), 'values': {kv.key: kv.value for kv in status.values}}

    def subscribe(self, info: dict) -> None:
        """Start measuring one topic of RATE_TOPICS (at most MAX_MEASURED topics)."""
        topic = info['name']
        if topic in self.rates or len(self.rates) >= MAX_MEASURED or not _is_rate_topic(topic):
            return
        msg_type = next((t for t in info['types'] if t in KNOWN_TYPES), None)
        entry = {'type': ', '.join(info['types']), 'publishers': info['publishers'],
                 'messages': 0, 'rate_hz': None, 'since': time.monotonic()}
        self.rates[topic] = entry
        if msg_type is None:
            entry['note'] = 'type not measured'
            return
        try:
            self.arrivals[topic] = self._subscription(topic, *KNOWN_TYPES[msg_type])
        except Exception as exc:  # noqa: BLE001 - one topic must not stop the probe
            entry['note'] = f'not measured: {type(exc).__name__}: {exc}'

    def _subscription(self, topic: str, module: str, cls: str) -> List[float]:
        """Subscribe to ``topic``; return the list its arrival times are appended to."""
        from rclpy.qos import qos_profile_sensor_data

        stamps: List[float] = []
        msg_cls = getattr(__import__(module, fromlist=[cls]), cls)
        if cls == 'DiagnosticArray':
            self.node.create_subscription(msg_cls, topic,
                                          lambda m, s=stamps: self.on_diagnostics(s, m),
                                          self.reliable)
        else:
            qos = qos_profile_sensor_data if cls == 'Image' else self.reliable
            self.node.create_subscription(msg_cls, topic,
                                          lambda _m, s=stamps: s.append(time.monotonic()),
                                          qos, raw=True)
        return stamps

    def measure(self, window_s: float, topics: List[dict]) -> None:
        """Measure for ``window_s``; topics discovered meanwhile are measured from then on."""
        end = time.monotonic() + window_s
        while True:
            for info in topics:
                self.subscribe(info)
            if time.monotonic() >= end:
                break
            self.spin_for(min(0.25, max(0.0, end - time.monotonic())))
            if time.monotonic() < end:
                _, topics = self.graph()
        finished = time.monotonic()
        for topic, entry in self.rates.items():
            stamps = self.arrivals.get(topic, [])
            entry['window_s'] = round(finished - entry.pop('since'), 2)
            if topic not in self.arrivals:
                continue
            entry['messages'] = len(stamps)
            if len(stamps) >= 2 and stamps[-1] > stamps[0]:
                entry['rate_hz'] = round((len(stamps) - 1) / (stamps[-1] - stamps[0]), 2)
            else:
                entry['rate_hz'] = 0.0

    def diagnostics(self) -> List[dict]:
        """Return the latest status of every name, with its age, sorted by name."""
        now = time.time()
        out = []
        for status in sorted(self.statuses.values(), key=lambda s: s['name']):
            status['age_s'] = round(now - status.pop('received'), 2)
            out.append(status)
        return out

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=0.5)
        self.node.destroy_node()
        self._rclpy.shutdown(context=self.context)


def ros_probe_child(discovery_s: float, window_s: float) -> int:
    """Run inside the probe subprocess: read the ROS graph and print JSON lines."""
    env = {key: os.environ.get(key) for key in ('ROS_DOMAIN_ID', 'RMW_IMPLEMENTATION',
                                                'ROS_DISTRO', 'ROS_AUTOMATIC_DISCOVERY_RANGE')}
    try:
        import rclpy
        import rclpy.qos  # noqa: F401 - its absence is reported like rclpy's
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        _emit({'rclpy': False, 'error': f'rclpy not importable: {type(exc).__name__}: {exc}',
               'environment': env, 'phase': 'complete'})
        return 0
    probe = _GraphProbe(rclpy)
    probe.discover(discovery_s)
    nodes, topics = probe.graph()
    payload = {'rclpy': True, 'environment': env, 'probe_node': '/' + probe.name,
               'nodes': nodes, 'topics': topics, 'up': bool(nodes), 'phase': 'graph'}
    _emit(payload)
    probe.measure(window_s, topics)
    # Nodes and topics found during the measurement too (discovery can take seconds).
    nodes, topics = probe.graph()
    payload.update({'nodes': nodes, 'topics': topics, 'up': bool(nodes)})
    payload.update({'rates': probe.rates, 'diagnostics': probe.diagnostics(),
                    'phase': 'complete'})
    _emit(payload)
    probe.close()
    return 0


def _probe_env() -> Tuple[dict, str]:
    """Return the probe's environment (this checkout first on PYTHONPATH) and the profile set.

    Without a Fast DDS profile of the user's, the package's one (large images) is applied.
    """
    env = dict(os.environ)
    checkout = str(Path(__file__).resolve().parents[3])
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
    return env, profile_applied


def _last_answer(out: Optional[bytes]) -> Optional[dict]:
    payload = None
    for line in (out or b'').decode('utf-8', 'replace').splitlines():
        if line.startswith(PROBE_MARKER):
            try:
                payload = json.loads(line[len(PROBE_MARKER):])
            except ValueError:
                continue
    return payload


def probe_ros_graph(timeout_s: float) -> dict:
    """Read the ROS graph through the probe subprocess, killed after ``timeout_s``."""
    budget = max(0.5, timeout_s - 2.5)  # start-up of Python and rclpy takes about 1-2 s
    discovery = round(min(3.5, max(0.3, budget * 0.45)), 2)
    window = round(min(2.0, max(0.3, budget * 0.4)), 2)
    env, profile_applied = _probe_env()
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
        kill_session(proc)
        try:
            out, err = proc.communicate(timeout=2.0)
        except (subprocess.TimeoutExpired, OSError, ValueError):
            out, err = b'', b''
    payload = _last_answer(out)
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
