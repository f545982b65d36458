# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""What the report reads from a bag: the columns, the status samples, the events."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from face_tracker_ros.common.status import ERROR
from face_tracker_ros.interface import (
    COMMAND_LATENCY_TOPIC,
    DIAGNOSTICS_TOPIC,
    JOINT_STATES_TOPIC,
    ROSOUT_TOPIC,
    SIM_JOINT_STATES_TOPIC,
    SIM_TRUE_TARGET_TOPIC,
    TARGET_TOPIC,
)

#: Keys of TOPIC_TYPES of the topics whose shared names start with a slash.
DIAGNOSTICS_KEY = DIAGNOSTICS_TOPIC.lstrip('/')
ROSOUT_KEY = ROSOUT_TOPIC.lstrip('/')
#: Topics read (names without the leading slash; a namespaced name matches by suffix).
TOPIC_TYPES = {
    TARGET_TOPIC: 'geometry_msgs/msg/PointStamped',
    SIM_TRUE_TARGET_TOPIC: 'geometry_msgs/msg/PointStamped',
    JOINT_STATES_TOPIC: 'sensor_msgs/msg/JointState',
    SIM_JOINT_STATES_TOPIC: 'sensor_msgs/msg/JointState',
    COMMAND_LATENCY_TOPIC: 'sensor_msgs/msg/TimeReference',
    DIAGNOSTICS_KEY: 'diagnostic_msgs/msg/DiagnosticArray',
    ROSOUT_KEY: 'rcl_interfaces/msg/Log',
}


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
    target: Dict[str, List[float]] = field(default_factory=lambda: columns('t x y z'))
    truth: Dict[str, List[float]] = field(default_factory=lambda: columns('t x y z'))
    joints: Dict[str, List[float]] = field(default_factory=lambda: columns('t pan tilt'))
    sim_joints: Dict[str, List[float]] = field(default_factory=lambda: columns('t pan tilt'))
    latency: Dict[str, List[float]] = field(default_factory=lambda: columns('t ms'))
    fps: Dict[str, List[float]] = field(default_factory=lambda: columns('t fps configured'))
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
                if s.level == ERROR and previous != ERROR:
                    events.append(Event(s.t, 'status ERROR', name, s.message))
                previous = s.level
        return sorted(events, key=lambda e: e.t)


def columns(names: str) -> Dict[str, List[float]]:
    """Return ``{name: []}`` for the space-separated ``names``."""
    return {name: [] for name in names.split()}


def topic_key(topic: str) -> Optional[str]:
    """Return the TOPIC_TYPES key a bag topic stands for (the longest suffix match)."""
    name = topic.lstrip('/')
    best = None
    for key in TOPIC_TYPES:
        if name == key or name.endswith('/' + key):
            if best is None or len(key) > len(best):
                best = key
    return best
