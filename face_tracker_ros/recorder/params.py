# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The flight recorder's parameters and their typed form (ROS-free).

:data:`PARAMS` and :data:`RULES` validate the flat values once (at start and
for every live change); :meth:`RecorderConfig.from_params` turns them into the
typed configuration the ROS-free cores take: :class:`TriggerConfig` for the
:class:`~face_tracker_ros.recorder.policy.TriggerPolicy`, the buffer and bag
settings for the :class:`~face_tracker_ros.recorder.capture.Recorder`, and
the monitor's :class:`~face_tracker_ros.monitor.params.PeerWatchConfig` for the
:class:`~face_tracker_ros.monitor.peerwatch.PeerWatch` (its ``peer_watch.*`` parameters are
declared here: the flight recorder runs it).
"""

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Dict, List, Mapping, Optional, Tuple

from face_tracker_ros.common.params import COMMON, Param, ParameterError, Rule
from face_tracker_ros.common.paths import default_log_dir
from face_tracker_ros.interface import (
    COMMAND_LATENCY_TOPIC,
    DEBUG_IMAGE_TOPIC,
    DIAGNOSTICS_TOPIC,
    IMAGE_TOPIC,
    JOINT_STATES_TOPIC,
    ROSOUT_TOPIC,
    SIM_JOINT_STATES_TOPIC,
    SIM_TRUE_TARGET_TOPIC,
    TARGET_TOPIC,
)
from face_tracker_ros.monitor.params import PeerWatchConfig
from face_tracker_ros.recorder.bagwriter import BACKENDS, MB, resolve_backend

DIAGNOSTICS_TYPE = 'diagnostic_msgs/msg/DiagnosticArray'
LOG_TYPE = 'rcl_interfaces/msg/Log'
POINT_TYPE = 'geometry_msgs/msg/PointStamped'
JOINT_STATE_TYPE = 'sensor_msgs/msg/JointState'
IMAGE_TYPE = 'sensor_msgs/msg/Image'
#: Image topics are recorded only if listed in ``topics``, decimated to ``image_rate_hz``.
IMAGE_TYPES = (IMAGE_TYPE, 'sensor_msgs/msg/CompressedImage')
#: The topics always typed, whatever ``topic_types`` says (the node resolves the rest).
FIXED_TYPES = {DIAGNOSTICS_TOPIC: DIAGNOSTICS_TYPE, ROSOUT_TOPIC: LOG_TYPE}

DEFAULT_TOPICS = [DIAGNOSTICS_TOPIC, ROSOUT_TOPIC, TARGET_TOPIC, JOINT_STATES_TOPIC,
                  COMMAND_LATENCY_TOPIC, SIM_TRUE_TARGET_TOPIC]
DEFAULT_TOPIC_TYPES = [f'{topic}:{type_name}' for topic, type_name in (
    (DIAGNOSTICS_TOPIC, DIAGNOSTICS_TYPE),
    (ROSOUT_TOPIC, LOG_TYPE),
    (TARGET_TOPIC, POINT_TYPE),
    (JOINT_STATES_TOPIC, JOINT_STATE_TYPE),
    (COMMAND_LATENCY_TOPIC, 'sensor_msgs/msg/TimeReference'),
    (SIM_TRUE_TARGET_TOPIC, POINT_TYPE),
    (SIM_JOINT_STATES_TOPIC, JOINT_STATE_TYPE),
    (IMAGE_TOPIC, IMAGE_TYPE),
    (DEBUG_IMAGE_TOPIC, IMAGE_TYPE),
)]
#: Why the peer watch's timing parameters need a restart.
PEER_WHY = 'the peer watch is built with it at start, with its clocks and budget'

PARAMS = (
    Param('topics', DEFAULT_TOPICS, 'Topics recorded (relative names resolve in the node '
          'namespace); image topics only if listed here'),
    Param('topic_types', DEFAULT_TOPIC_TYPES, "Known types, '<topic>:<pkg>/msg/<Type>'; "
          'topics not listed are typed from the ROS graph once published'),
    Param('buffer_s', 30.0, 'Seconds of history kept in memory', min=1.0, max=3600.0,
          unit='s'),
    Param('max_buffer_mb', 64.0, 'Memory budget of the buffer (oldest messages dropped '
          'first)', min=1.0, max=100000.0, unit='MB'),
    Param('pre_event_s', 20.0, 'Seconds before the event written to the bag (pre_event_s '
          '+ post_event_s <= buffer_s)', min=0.0, max=3600.0, unit='s'),
    Param('post_event_s', 4.0, 'Seconds recorded after the event before the bag is written',
          min=0.0, max=600.0, unit='s'),
    Param('cooldown_s', 30.0, 'Error and restart events within this time of the last '
          'captured event write no new bag', min=0.0, max=86400.0, unit='s'),
    Param('image_rate_hz', 2.0, 'Rate image topics are decimated to', min=0.0,
          min_exclusive=True, max=1000.0, unit='Hz'),
    Param('trigger_on_error', True, 'Write a bag when a /diagnostics status becomes ERROR'),
    Param('trigger_on_restart', True, "Write a bag when a node's pid changes"),
    Param('output_dir', '', 'Directory of the bags; empty = <ROS log dir>/face_tracker_ros/'
          'flight_recorder'),
    Param('max_bags', 20, 'Bags kept in output_dir (oldest deleted first)', min=1,
          max=100000),
    Param('max_total_mb', 1000.0, 'Total size of the bags kept in output_dir', min=1.0,
          unit='MB'),
    Param('backend', 'auto', "Bag writer: 'rosbag2_py' (in a ROS 2 distribution), "
          "'rosbags' (pure Python) or 'auto' (rosbag2_py when importable)", choices=BACKENDS),
    Param('peer_watch.enabled', True, 'Watch the diagnostics node of this run (it holds the '
          'watchdog): end it when its statuses stop while its process lives, so that launch '
          '(or the standalone runner) restarts it; false = report only', live=True),
    Param('peer_watch.stale_timeout_s', 20.0, 'The diagnostics node with no status for this '
          'long, its process alive, is hung', min=2.0, max=3600.0, unit='s',
          why=PEER_WHY),
    Param('peer_watch.startup_grace_s', 30.0, 'Time a new diagnostics process gets before it '
          'is judged', min=0.0, max=3600.0, unit='s', why=PEER_WHY),
    Param('peer_watch.kill_grace_s', 3.0, 'Wait between SIGTERM and SIGKILL of a hung '
          'diagnostics node', min=0.1, max=120.0, unit='s', why=PEER_WHY),
    Param('peer_watch.max_restarts_per_hour', 3, 'Terminations of the diagnostics node per '
          'sliding hour; beyond it the peer watch stays in ERROR and acts no more', min=0,
          max=1000, why=PEER_WHY),
) + COMMON


def parse_topic_types(entries: List[str]) -> Dict[str, str]:
    """Parse ``['face/target:geometry_msgs/msg/PointStamped', ...]`` into ``{topic: type}``.

    Raises :class:`ParameterError` naming ``topic_types`` for a malformed entry.
    """
    out = {}
    for entry in entries:
        topic, sep, type_name = str(entry).partition(':')
        parts = type_name.strip().split('/')
        if not sep or not topic.strip() or len(parts) != 3 or parts[1] != 'msg' or \
                not all(parts):
            raise ParameterError(
                f"parameter 'topic_types' entry {entry!r} is not '<topic>:<pkg>/msg/<Type>' "
                "(e.g. 'face/target:geometry_msgs/msg/PointStamped')")
        out[topic.strip()] = type_name.strip()
    return out


def _window_problem(v: Mapping[str, Any]) -> Optional[str]:
    if v['pre_event_s'] + v['post_event_s'] <= v['buffer_s']:
        return None
    return (f"parameters 'pre_event_s' ({v['pre_event_s']:g}) + 'post_event_s' "
            f"({v['post_event_s']:g}) must be <= 'buffer_s' ({v['buffer_s']:g})")


def _topic_types_problem(v: Mapping[str, Any]) -> Optional[str]:
    try:
        parse_topic_types(v['topic_types'])
    except ParameterError as exc:
        return str(exc)
    return None


def _backend_problem(v: Mapping[str, Any]) -> Optional[str]:
    try:
        resolve_backend(v['backend'])
    except ValueError as exc:  # 'rosbag2_py' where it cannot be imported
        return f"parameter 'backend': {exc}"
    return None


#: Rules of the recorder's parameters, checked at start (and for every live change).
RULES = (Rule(('pre_event_s', 'post_event_s', 'buffer_s'), _window_problem),
         Rule(('topic_types',), _topic_types_problem),
         Rule(('backend',), _backend_problem))


def default_output_dir() -> Path:
    """Return where bags go when ``output_dir`` is empty: beside the tracker's log file."""
    return default_log_dir() / 'flight_recorder'


@dataclass(frozen=True)
class TriggerConfig:
    """When a bag is written and which seconds it holds."""

    pre_event_s: float
    post_event_s: float
    cooldown_s: float
    on_error: bool
    on_restart: bool


@dataclass(frozen=True)
class RecorderConfig:
    """The flight recorder's validated parameters, typed."""

    topics: Tuple[str, ...]
    topic_types: Mapping[str, str]  # as given, names not yet resolved in the namespace
    buffer_s: float
    max_buffer_mb: float
    image_rate_hz: float
    output_dir: Path
    max_bags: int
    max_total_mb: float
    backend: str  # the bag writer 'auto' stands for here: 'rosbags' or 'rosbag2_py'
    trigger: TriggerConfig
    peer_watch: PeerWatchConfig

    @property
    def max_buffer_bytes(self) -> int:
        """The buffer's budget in bytes."""
        return int(self.max_buffer_mb * MB)

    @property
    def image_period_ns(self) -> int:
        """Shortest time between two recorded messages of one image topic."""
        return int(1e9 / self.image_rate_hz)

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> 'RecorderConfig':
        """Build the configuration from the values :data:`PARAMS` and :data:`RULES` passed."""
        output_dir = values['output_dir']
        return cls(
            topics=tuple(values['topics']),
            topic_types=MappingProxyType(parse_topic_types(values['topic_types'])),
            buffer_s=values['buffer_s'],
            max_buffer_mb=values['max_buffer_mb'],
            image_rate_hz=values['image_rate_hz'],
            output_dir=Path(output_dir).expanduser() if output_dir else default_output_dir(),
            max_bags=values['max_bags'],
            max_total_mb=values['max_total_mb'],
            backend=resolve_backend(values['backend']),
            trigger=TriggerConfig(pre_event_s=values['pre_event_s'],
                                  post_event_s=values['post_event_s'],
                                  cooldown_s=values['cooldown_s'],
                                  on_error=values['trigger_on_error'],
                                  on_restart=values['trigger_on_restart']),
            peer_watch=PeerWatchConfig.from_params(values))
