# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Which nodes run with which overrides: shared by the launch file and the standalone runner.

Both ways of running the tracker read ``config/tracker.yaml`` and then apply
the overrides computed here from the same few arguments, so a launch argument
and the matching standalone flag always mean the same thing.
"""

from dataclasses import dataclass, field
import re
from typing import Any, Dict, List, Sequence

from face_tracker_ros.common.status import LOG_LEVEL_ALIASES, LOG_LEVEL_NAMES
from face_tracker_ros.interface import (
    CAMERA_NODE,
    DETECTOR_NODE,
    DIAGNOSTICS_NODE,
    FLIGHT_RECORDER_NODE,
    NODE_EXECUTABLES,
    PACKAGE,
    SERVO_NODE,
    SIM_CAMERA_EXECUTABLE,
    SIM_SERVO_NODE,
)

#: A ROS namespace of the tracker's nodes: names of letters, digits and ``_`` joined by ``/``.
_NAMESPACE_RE = re.compile(r'^/?[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)*$')


def node_spec(name: str, folder: str, parameters: Dict[str, Any]) -> 'NodeSpec':
    """Return the spec of node ``name`` whose ``node`` module is in the package's ``folder``."""
    return NodeSpec(name, NODE_EXECUTABLES[name], f'{PACKAGE}.{folder}.node', parameters)


@dataclass
class NodeSpec:
    """One node process of the tracker."""

    name: str
    executable: str
    module: str
    parameters: Dict[str, Any] = field(default_factory=dict)
    log_level: str = ''


@dataclass
class BringupArgs:
    """The arguments common to ``tracker.launch.py`` and ``face_tracker_standalone``.

    Empty strings mean "as in the parameters file".
    """

    use_sim: bool = False
    camera_source: str = ''
    serial_port: str = ''
    protocol: str = ''
    sim_path: str = ''
    sim_port: str = ''
    debug_image: bool = False
    log_dir: str = ''
    preview_rate_hz: float = 0.0
    flight_recorder: bool = True
    node_log_levels: Dict[str, str] = field(default_factory=dict)
    namespace: str = ''


def camera_overrides(camera_source: str) -> Dict[str, Any]:
    """Map a ``camera_source`` argument to camera node parameters.

    ``sim`` selects the simulation; ``/dev/...`` paths and bare integers select
    a V4L2 device; anything else is a video file.
    """
    if not camera_source:
        return {}
    if camera_source == 'sim':
        return {'source': 'sim'}
    if camera_source.startswith('/dev/') or camera_source.isdigit():
        return {'source': 'v4l2', 'device': camera_source}
    return {'source': 'file', 'video_path': camera_source}


def parse_node_log_levels(text: str) -> Dict[str, str]:
    """Parse ``"camera=debug,servo=warn"`` into ``{'camera': 'debug', 'servo': 'warn'}``."""
    levels = {}
    for item in filter(None, (part.strip() for part in text.split(','))):
        name, sep, level = item.partition('=')
        if not sep or not name.strip() or not level.strip():
            raise ValueError(f"'{item}' is not <node>=<level> (e.g. camera=debug)")
        levels[name.strip()] = level.strip().lower()
    return levels


class ArgumentError(ValueError):
    """A bring-up argument with a value outside the allowed ones (its message names both)."""


def check_argument(argument: str, value: str, allowed: Sequence[str],
                   empty_ok: bool = False) -> str:
    """Return a bring-up argument's ``value`` if it is one of ``allowed``, else raise.

    :class:`ArgumentError` names the argument as launch shows it: ``invalid argument
    protocol:='pwm' (allowed: ascii, maestro)``.
    """
    if (empty_ok and value == '') or value in allowed:
        return value
    choices = ', '.join(allowed) + (' or empty (as in the parameters file)' if empty_ok else '')
    raise ArgumentError(f"invalid argument {argument}:='{value}' (allowed: {choices})")


def parse_log_level(argument: str, text: str) -> str:
    """Return the log level ``text`` names (case-insensitive); raise :class:`ArgumentError`."""
    level = str(text).strip().lower()
    return check_argument(argument, LOG_LEVEL_ALIASES.get(level, level), LOG_LEVEL_NAMES)


def parse_namespace(text: str) -> str:
    """Return ``text`` as an absolute ROS namespace ('' for none); raise :class:`ArgumentError`."""
    text = str(text).strip().rstrip('/')
    if not text:
        return ''
    if not _NAMESPACE_RE.match(text):
        raise ArgumentError(
            f"invalid argument namespace:='{text}' (allowed: names of letters, digits and _, "
            'each starting with a letter, separated by /, e.g. left or robot1/head)')
    return '/' + text.lstrip('/')


def logger_name(namespace: str, node_name: str) -> str:
    """Return the logger name of node ``node_name`` in ``namespace`` (``left.detector``)."""
    parts = [part for part in namespace.split('/') if part]
    return '.'.join(parts + [node_name])


def instance_dir_name(namespace: str) -> str:
    """Return the per-instance subdirectory for ``namespace`` ('' without one): ``left``."""
    return '_'.join(part for part in namespace.split('/') if part)


def parse_bool(value) -> bool:
    """Interpret a launch-style boolean ('true', 'false', '1', '0', ...)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ('true', '1', 'yes', 'on'):
        return True
    if text in ('false', '0', 'no', 'off', ''):
        return False
    raise ValueError(f"'{value}' is not a boolean (use true or false)")


def default_sim_port(namespace: str = '') -> str:
    """Return the simulated controller's link path for this bring-up.

    It is unique to the launching process and namespace (several simulations
    can run on one machine, two trackers from one launch too) and stable while
    it runs (a respawned node finds the same path).
    """
    import os

    from face_tracker_ros.common.paths import runtime_dir
    instance = instance_dir_name(namespace)
    return str(runtime_dir() / f"sim_servo_{instance + '_' if instance else ''}{os.getpid()}")


def instance_log_dir(args: BringupArgs) -> str:
    """Return the log directory of this instance: ``log_dir``, else per namespace, else ''.

    '' means the nodes' own default (the ROS log directory).  With a namespace
    and no ``log_dir``, each instance gets ``<ROS log dir>/face_tracker_ros/<namespace>``,
    so two trackers never share a log file or a flight-recorder folder.
    """
    if args.log_dir or not args.namespace:
        return args.log_dir
    from face_tracker_ros.common.paths import default_log_dir
    return str(default_log_dir() / instance_dir_name(args.namespace))


def _no_face_model() -> bool:
    """Return True if the detector's 'auto' backend would find no YuNet model."""
    from face_tracker_ros.detector.models import find_model
    return find_model() is None


def make_plan(args: BringupArgs) -> List[NodeSpec]:
    """Return the node processes to run, in start order."""
    camera: Dict[str, Any] = {}
    servo: Dict[str, Any] = {}
    detector: Dict[str, Any] = {}
    specs: List[NodeSpec] = []
    log_dir = instance_log_dir(args)
    if args.use_sim:
        link = args.sim_port or default_sim_port(args.namespace)
        sim: Dict[str, Any] = {'link_path': link}
        if args.protocol:
            sim['protocol'] = args.protocol
        specs.append(node_spec(SIM_SERVO_NODE, 'sim', sim))
        camera['source'] = 'sim'
        if _no_face_model():
            # The simulated face (a frontal photograph) suits Haar: said explicitly, the
            # detector does not warn about the missing YuNet model as it does for a camera.
            detector['backend'] = 'haar'
        camera['sim.wait_for_pose'] = True
        if args.sim_path:
            camera['sim.path'] = args.sim_path
        servo['port'] = link
    else:
        camera.update(camera_overrides(args.camera_source))
        if args.serial_port:
            servo['port'] = args.serial_port
    if args.protocol:
        servo['protocol'] = args.protocol
    if args.debug_image:
        detector['publish_debug_image'] = True
    if args.preview_rate_hz > 0.0:
        camera['preview_rate_hz'] = float(args.preview_rate_hz)
    if camera.get('source') == 'sim':
        # The simulated camera: its own executable, the same node (name, topics, parameters).
        specs.append(NodeSpec(CAMERA_NODE, SIM_CAMERA_EXECUTABLE, f'{PACKAGE}.sim.camera_node',
                              camera))
    else:
        specs.append(node_spec(CAMERA_NODE, 'camera', camera))
    specs.append(node_spec(DETECTOR_NODE, 'detector', detector))
    specs.append(node_spec(SERVO_NODE, 'servo', servo))
    if args.flight_recorder:
        recorder: Dict[str, Any] = {}
        if log_dir:
            import os
            # The recorder's folder is named after it, as its own default is.
            recorder['output_dir'] = os.path.join(log_dir, FLIGHT_RECORDER_NODE)
        specs.append(node_spec(FLIGHT_RECORDER_NODE, 'recorder', recorder))
    diagnostics: Dict[str, Any] = {'watched_nodes': [s.name for s in specs]}
    if log_dir:
        diagnostics['log_dir'] = log_dir
    specs.append(node_spec(DIAGNOSTICS_NODE, 'monitor', diagnostics))
    for spec in specs:
        spec.log_level = args.node_log_levels.get(spec.name, '')
    return specs
