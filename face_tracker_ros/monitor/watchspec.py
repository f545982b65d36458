# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""What the watchdog watches and what it says: node specs, its actions and log sentences.

:class:`WatchSpec` names a watched node, the topic that proves it works and the
node that feeds it (:func:`default_specs` gives the tracker's); an
:class:`Action` is a signal sent (or, report-only, not sent); an
:class:`Event` a sentence for the log.  ROS-free.
"""

from dataclasses import dataclass
from datetime import datetime, timezone
import re
from typing import Iterable, List

from face_tracker_ros.common.status import STARTING_MESSAGE, WARN  # noqa: F401 - re-exported
from face_tracker_ros.interface import (
    CAMERA_INFO_TOPIC,
    CAMERA_NODE,
    DETECTOR_NODE,
    JOINT_STATES_TOPIC,
    SERVO_NODE,
    SIM_JOINT_STATES_TOPIC,
    SIM_SERVO_NODE,
    TARGET_TOPIC,
)

#: The states a watched node can be in, as shown in the ``state`` figure.
STATES = ('ok', 'starting', 'starved', 'hung', 'bloated', 'zombie', 'terminating',
          'budget_exhausted', 'not_running')

#: The topic whose messages prove each tracker node is working.
DEFAULT_OUTPUTS = {
    CAMERA_NODE: CAMERA_INFO_TOPIC,
    DETECTOR_NODE: TARGET_TOPIC,
    SERVO_NODE: JOINT_STATES_TOPIC,
    SIM_SERVO_NODE: SIM_JOINT_STATES_TOPIC,
}

#: The node whose output feeds each node (a silent input excuses a silent output).
DEFAULT_UPSTREAMS = {DETECTOR_NODE: CAMERA_NODE}

#: A gap this long between two checks (1 s apart) means the watching process itself was not
#: running (stopped, or starved of CPU): that time is unknown, not silence.
STALL_GAP_S = 3.0

#: The status every node announces before its first real report; not a sign of work.

#: A ROS node name: a letter or _, then letters, digits or _.
NODE_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


def local_iso(wall: float) -> str:
    """Return an epoch time as local ISO 8601 (seconds, with the UTC offset)."""
    return datetime.fromtimestamp(wall, timezone.utc).astimezone().isoformat(
        timespec='seconds')


@dataclass(frozen=True)
class WatchSpec:
    """One watched node: its name, the topic that proves it works, what feeds it.

    ``output_topic`` empty means liveness is judged from heartbeats alone;
    ``upstream`` names another watched node whose output is this node's input.
    """

    name: str
    output_topic: str = ''
    upstream: str = ''


def default_specs(nodes: Iterable[str]) -> List[WatchSpec]:
    """Return the recommended specs for these tracker node names.

    camera -> ``camera/camera_info``; detector -> ``face/target`` (upstream
    camera, when the camera is watched); servo -> ``joint_states``; sim_servo
    -> ``sim/joint_states``; any other node is watched by heartbeat only.
    """
    names = list(nodes)
    specs = []
    for name in names:
        upstream = DEFAULT_UPSTREAMS.get(name, '')
        specs.append(WatchSpec(name, DEFAULT_OUTPUTS.get(name, ''),
                               upstream if upstream in names else ''))
    return specs


@dataclass(frozen=True)
class Action:
    """A signal the watchdog sent (``performed``) or, in report-only mode, would have sent.

    ``what`` is ``'SIGTERM'`` or ``'SIGKILL'``; ``why`` the reason in words;
    ``t`` the watchdog clock and ``wall_time`` the epoch time of the decision.
    """

    node: str
    what: str
    pid: int
    why: str
    t: float
    wall_time: float
    performed: bool

    @property
    def when(self) -> str:
        """Return the decision's local time in ISO 8601 (seconds, with the UTC offset)."""
        return local_iso(self.wall_time)


class Event(str):
    """A sentence for the log; ``level`` is OK (info), WARN or ERROR."""

    level: int

    def __new__(cls, text: str, level: int = WARN):
        """Create the sentence ``text`` logged at ``level``."""
        event = super().__new__(cls, text)
        event.level = level
        return event


def check_specs(nodes) -> List[WatchSpec]:
    """Return the specs of ``nodes`` (WatchSpec objects or names, which get the defaults).

    Raises ValueError naming what is wrong.
    """
    if isinstance(nodes, (str, bytes)) or nodes is None:
        raise ValueError('nodes must be a list of node names or WatchSpec, '
                         f'got {nodes!r}')
    try:
        items = list(nodes)
    except TypeError:
        raise ValueError('nodes must be a list of node names or WatchSpec, '
                         f'got {nodes!r}') from None
    names = [item for item in items if isinstance(item, str)]
    defaults = {s.name: s for s in default_specs(names)}
    specs = []
    for item in items:
        spec = defaults.get(item) if isinstance(item, str) else item
        if not isinstance(spec, WatchSpec) or not isinstance(spec.name, str) \
                or not NODE_NAME.fullmatch(spec.name):
            raise ValueError('nodes must hold ROS node names (a letter or _, then letters, '
                             f'digits or _) or WatchSpec, got {item!r}')
        if not isinstance(spec.output_topic, str) or not isinstance(spec.upstream, str):
            raise ValueError(f'nodes: output_topic and upstream of {spec.name} must be '
                             'strings')
        specs.append(spec)
    seen = [s.name for s in specs]
    for spec in specs:
        if seen.count(spec.name) > 1:
            raise ValueError(f'nodes must not repeat a node, {spec.name!r} appears twice')
        if spec.upstream and (spec.upstream == spec.name or spec.upstream not in seen):
            raise ValueError(f'nodes: upstream of {spec.name} must be another watched node '
                             f'({", ".join(n for n in seen if n != spec.name) or "none"}), '
                             f'got {spec.upstream!r}')
    return specs

# ----------------------------------------------------------------- inputs
