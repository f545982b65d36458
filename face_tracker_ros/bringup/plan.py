# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Which nodes run with which overrides: shared by the launch file and the standalone runner.

Both ways of running the tracker read ``config/tracker.yaml`` and then apply
the overrides computed here from the same few arguments, so a launch argument
and the matching standalone flag always mean the same thing.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List

PACKAGE = 'face_tracker_ros'


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


def default_sim_port() -> str:
    """Return the simulated controller's link path for this bring-up.

    It is unique to the launching process (several simulations can run on one
    machine) and stable while it runs (a respawned node finds the same path).
    """
    import os

    from face_tracker_ros.common.paths import runtime_dir
    return str(runtime_dir() / f'sim_servo_{os.getpid()}')


def make_plan(args: BringupArgs) -> List[NodeSpec]:
    """Return the node processes to run, in start order."""
    camera: Dict[str, Any] = {}
    servo: Dict[str, Any] = {}
    detector: Dict[str, Any] = {}
    specs: List[NodeSpec] = []
    if args.use_sim:
        link = args.sim_port or default_sim_port()
        sim: Dict[str, Any] = {'link_path': link}
        if args.protocol:
            sim['protocol'] = args.protocol
        specs.append(NodeSpec('sim_servo', 'sim_servo_node', f'{PACKAGE}.sim.node', sim))
        camera['source'] = 'sim'
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
    specs.append(NodeSpec('camera', 'camera_node', f'{PACKAGE}.camera.node', camera))
    specs.append(NodeSpec('detector', 'detector_node', f'{PACKAGE}.detector.node', detector))
    specs.append(NodeSpec('servo', 'servo_node', f'{PACKAGE}.servo.node', servo))
    if args.flight_recorder:
        recorder: Dict[str, Any] = {}
        if args.log_dir:
            import os
            recorder['output_dir'] = os.path.join(args.log_dir, 'flight_recorder')
        specs.append(NodeSpec('flight_recorder', 'flight_recorder_node',
                              f'{PACKAGE}.recorder.node', recorder))
    diagnostics: Dict[str, Any] = {'watched_nodes': [s.name for s in specs]}
    if args.log_dir:
        diagnostics['log_dir'] = args.log_dir
    specs.append(NodeSpec('diagnostics', 'diagnostics_node', f'{PACKAGE}.monitor.node',
                          diagnostics))
    for spec in specs:
        spec.log_level = args.node_log_levels.get(spec.name, '')
    return specs
