# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Launch the face tracker: camera, detector and servo nodes, each its own respawning process.

Examples::

    ros2 launch face_tracker_ros tracker.launch.py use_sim:=true
    ros2 launch face_tracker_ros tracker.launch.py camera_source:=/dev/video0
    ros2 launch face_tracker_ros tracker.launch.py protocol:=maestro serial_port:=/dev/ttyACM0

Every node reads ``config/tracker.yaml`` (or ``params_file``); the arguments
below override a few of its values through the same plan the standalone
runner uses (:mod:`face_tracker_ros.bringup.plan`).
"""

import os
import tempfile
import uuid

from ament_index_python.packages import (
    get_package_prefix,
    get_package_share_directory,
    PackageNotFoundError,
)
from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    ExecuteProcess,
    OpaqueFunction,
    RegisterEventHandler,
    SetEnvironmentVariable,
    TimerAction,
)
from launch.conditions import IfCondition
from launch.event_handlers import OnProcessExit
import launch.logging
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
import yaml

from face_tracker_ros.bringup.plan import (
    ArgumentError,
    BringupArgs,
    check_argument,
    instance_log_dir,
    logger_name,
    make_plan,
    parse_bool,
    parse_log_level,
    parse_namespace,
    parse_node_log_levels,
)
from face_tracker_ros.common.paths import default_log_dir
from face_tracker_ros.common.runner import EXIT_BAD_PARAMETER
from face_tracker_ros.interface import (
    DEBUG_IMAGE_TOPIC,
    PACKAGE,
    PARENT_PID_ENV,
    PREVIEW_TOPIC,
    RECORD_EXECUTABLE,
    RUN_ID_ENV,
)
from face_tracker_ros.servo.protocols import PROTOCOLS
from face_tracker_ros.sim.paths import PATHS

ARGUMENTS = (
    ('use_sim', 'false', 'Simulated camera and servo controller, no hardware needed'),
    ('camera_source', '', "'sim', a V4L2 device (/dev/video0, /dev/v4l/by-id/...) or a video "
     'file; empty = as in the parameters file'),
    ('serial_port', '', 'Servo controller port (/dev/ttyUSB0, /dev/serial/by-id/...); empty = '
     'as in the parameters file'),
    ('protocol', '', f"Servo controller protocol: {' or '.join(PROTOCOLS)}; empty = parameters "
     'file'),
    ('sim_path', '', f"Simulated face motion: {', '.join(PATHS)}"),
    ('sim_port', '', "Link path of the simulated controller's pseudo-terminal"),
    ('debug_image', 'false', f'Publish {DEBUG_IMAGE_TOPIC} with the detected faces drawn'),
    ('params_file', '', 'Parameters file; empty = the installed config/tracker.yaml'),
    ('namespace', '', 'ROS namespace of every node, for trackers side by side (left, right); '
     'with it the sim port, log directory and bag folders are per instance'),
    ('log_level', 'info', "Log level of the tracker's own node loggers: debug, info, warn, "
     'error, fatal (the middleware, rcl and rmw, stays at its default: see middleware_log_level)'),
    ('middleware_log_level', '', 'Log level of every other logger in the nodes (rcl, rmw, ...): '
     'debug, info, warn, error, fatal; empty = their default'),
    ('node_log_levels', '', 'Per-node log levels overriding log_level, e.g. '
     '"camera=debug,servo=warn"'),
    ('log_dir', '', 'Directory of face_tracker.log; empty = the ROS log directory'),
    ('aggregator', 'true', 'Start diagnostic_aggregator with config/diagnostic_aggregator.yaml '
     '(/diagnostics_agg for rqt_robot_monitor)'),
    ('respawn_delay', '2.0', 'Seconds before a node that exited is started again'),
    ('respawn_max_retries', '-1', "Restarts per node over the launch's lifetime, -1 = no limit "
     '(a node exiting with status 2, a configuration error, is never restarted)'),
    ('flight_recorder', 'true', 'Keep the last seconds of diagnostics, logs and targets in '
     'memory and write them to a bag on an ERROR, a node restart or a request'),
    ('record', 'false', 'Record a bag for post-mortems with ros2 bag record (MCAP): '
     'diagnostics, rosout, targets, joint states, latency'),
    ('bag_dir', '', 'Directory of the recorded bags; empty = <log dir>/bags'),
    ('record_images', 'false', f'Also record {PREVIEW_TOPIC} (small JPEGs at 2 Hz)'),
    ('shm_transport', 'true', 'Apply the shipped Fast DDS shared-memory profile for full-rate '
     'images (unless FASTDDS_DEFAULT_PROFILES_FILE is already set)'),
)


LOG = launch.logging.get_logger('tracker.launch.py')
#: Each node starts with SIGINT ignored, until its runner installs its own handler: a Ctrl-C
#: in the first seconds, while the interpreter starts and imports, would otherwise end it with
#: a KeyboardInterrupt traceback (or "Fatal Python error" inside the site import).  An ignored
#: signal stays ignored across exec, and Python installs its KeyboardInterrupt handler only
#: where SIGINT is at its default; common/runner.py then sets its own.  A SIGINT lost that way
#: is followed by launch's SIGTERM (sigterm_timeout), which ends the node without a traceback.
IGNORE_SIGINT_UNTIL_READY = 'sh -c \'trap "" INT; exec "$0" "$@"\''
BOOL_ARGUMENTS = ('use_sim', 'debug_image', 'aggregator', 'flight_recorder', 'record',
                  'record_images', 'shm_transport')


class Respawn:
    """One process of the tracker, started again after it exits unless its configuration is wrong.

    launch's own ``respawn=True`` restarts a process whatever its exit status:
    in launch 3.7 ``ExecuteLocal`` decides right after the exit, before any
    ``ProcessExited`` handler has run, from nothing but a delay and a retry
    count over the launch's lifetime.  A node that exits with status 2
    (:data:`EXIT_BAD_PARAMETER`: a configuration error, already reported in
    one FATAL line) would only fail the same way again, forever.  So every
    process runs without launch's respawn, and an ``OnProcessExit`` handler
    (public launch API) decides per exit: status 2 -> one line saying it is
    not restarted; any other exit while the launch is not shutting down -> a
    fresh action for the same command after ``respawn_delay`` (a
    ``TimerAction``, which a shutdown cancels).
    """

    def __init__(self, label: str, make_action, delay: float, max_retries: int):
        """Keep how to make the process's action; ``max_retries`` < 0 = no limit."""
        self.label = label
        self._make_action = make_action
        self.delay = delay
        self.max_retries = max_retries
        self.restarts = 0

    def start(self):
        """Return the entities that start the process once and watch its exit."""
        action = self._make_action()
        return [RegisterEventHandler(OnProcessExit(
            target_action=action, on_exit=self._on_exit, handle_once=True)), action]

    def _on_exit(self, event, context):
        if context.is_shutdown:
            return None
        if event.returncode == EXIT_BAD_PARAMETER:
            LOG.error(f'{self.label} exited with status {EXIT_BAD_PARAMETER} (a configuration '
                      'error, reported above): not restarted; fix the configuration and '
                      'launch again')
            return None
        if 0 <= self.max_retries <= self.restarts:
            LOG.error(f'{self.label} exited with status {event.returncode} after '
                      f'{self.restarts} restarts (respawn_max_retries): not restarted again')
            return None
        self.restarts += 1
        return [TimerAction(period=self.delay, actions=self.start())]


def _installed(package: str) -> bool:
    try:
        get_package_prefix(package)
    except PackageNotFoundError:
        return False
    return True


def _namespaced(params_file: str, namespace: str) -> str:
    """Return a parameters file whose node sections apply to the nodes in ``namespace``.

    A section ``camera:`` matches the node ``/camera`` only; in ``/left`` the
    node is ``/left/camera``.  So with a namespace the sections are nested
    under it (``left: camera: ros__parameters:``, the nested form rcl reads)
    in a copy; ``/**`` and other absolute sections stay as they are.
    """
    if not namespace:
        return params_file
    try:
        with open(params_file) as stream:
            sections = yaml.safe_load(stream) or {}
        if not isinstance(sections, dict):
            raise yaml.YAMLError('not a mapping of node names')
    except (OSError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArgumentError(f"invalid argument params_file:='{params_file}' (a ROS 2 "
                            f'parameters file: {reason})') from None
    nested = {key: value for key, value in sections.items() if not str(key).startswith('/')}
    for part in reversed([part for part in namespace.split('/') if part]):
        nested = {part: nested}
    nested.update({key: value for key, value in sections.items() if str(key).startswith('/')})
    fd, path = tempfile.mkstemp(prefix='face_tracker_params_', suffix='.yaml')
    with os.fdopen(fd, 'w') as stream:
        yaml.safe_dump(nested, stream)
    return path


def _arguments(context) -> dict:
    """Read and check every argument; raise ArgumentError (one line, nothing started)."""
    values = {name: LaunchConfiguration(name).perform(context) for name, _, _ in ARGUMENTS}
    for name in BOOL_ARGUMENTS:
        try:
            values[name] = parse_bool(values[name])
        except ValueError:
            raise ArgumentError(f"invalid argument {name}:='{values[name]}' "
                                '(allowed: true, false)') from None
    values['log_level'] = parse_log_level('log_level', values['log_level'])
    if values['middleware_log_level']:
        values['middleware_log_level'] = parse_log_level('middleware_log_level',
                                                         values['middleware_log_level'])
    check_argument('protocol', values['protocol'], PROTOCOLS, empty_ok=True)
    check_argument('sim_path', values['sim_path'], PATHS, empty_ok=True)
    values['namespace'] = parse_namespace(values['namespace'])
    try:
        levels = parse_node_log_levels(values['node_log_levels'])
    except ValueError as exc:
        raise ArgumentError(f'invalid argument node_log_levels: {exc}') from None
    values['node_log_levels'] = {
        node: parse_log_level(f'node_log_levels ({node})', level)
        for node, level in levels.items()}
    try:
        delay = float(values['respawn_delay'])
        if not 0.0 <= delay < float('inf'):
            raise ValueError
        values['respawn_delay'] = delay
    except ValueError:
        raise ArgumentError(f"invalid argument respawn_delay:='{values['respawn_delay']}' "
                            '(allowed: seconds, 0 or more)') from None
    try:
        values['respawn_max_retries'] = int(values['respawn_max_retries'])
    except ValueError:
        raise ArgumentError('invalid argument respawn_max_retries:='
                            f"'{values['respawn_max_retries']}' (allowed: an integer, "
                            '-1 = no limit)') from None
    if values['params_file'] and not os.path.isfile(values['params_file']):
        raise ArgumentError(f"invalid argument params_file:='{values['params_file']}' "
                            '(no such file)')
    return values


def _nodes(context):
    args = _arguments(context)
    share = get_package_share_directory(PACKAGE)
    namespace = args['namespace']
    params_file = _namespaced(
        args['params_file'] or os.path.join(share, 'config', 'tracker.yaml'), namespace)
    bringup = BringupArgs(
        use_sim=args['use_sim'], camera_source=args['camera_source'],
        serial_port=args['serial_port'], protocol=args['protocol'], sim_path=args['sim_path'],
        sim_port=args['sim_port'], debug_image=args['debug_image'], log_dir=args['log_dir'],
        node_log_levels=args['node_log_levels'],
        preview_rate_hz=2.0 if args['record_images'] else 0.0,
        flight_recorder=args['flight_recorder'], namespace=namespace)
    plan = make_plan(bringup)
    unknown = sorted(set(args['node_log_levels']) - {spec.name for spec in plan})
    if unknown:
        raise ArgumentError(f"invalid argument node_log_levels: no node {', '.join(unknown)} "
                            f"(allowed: {', '.join(spec.name for spec in plan)})")
    # Every process of this run carries the run's id (the watchdog acts only on processes
    # with its own id) and the launch's pid (a node whose parent is already another process
    # when it starts exits at once: see common/runner.py).
    env = {RUN_ID_ENV: uuid.uuid4().hex, PARENT_PID_ENV: str(os.getpid())}
    middleware = (['--log-level', args['middleware_log_level']]
                  if args['middleware_log_level'] else [])
    # A user's launch-prefix (gdb, valgrind) still applies, after the shell's exec.
    prefix = ' '.join(filter(None, (IGNORE_SIGINT_UNTIL_READY, LaunchConfiguration(
        'launch-prefix', default='').perform(context))))
    entities = []

    def supervise(label, make_action):
        entities.extend(Respawn(label, make_action, args['respawn_delay'],
                                args['respawn_max_retries']).start())

    for spec in plan:
        # The level applies to the node's own logger (and its children) only: a bare
        # `--log-level debug` would also turn on rcl's and rmw's debug output.
        level = spec.log_level or args['log_level']
        ros_args = middleware + ['--log-level', f'{logger_name(namespace, spec.name)}:={level}']
        supervise(spec.name, lambda spec=spec, ros_args=ros_args: Node(
            package=PACKAGE, executable=spec.executable, name=spec.name, namespace=namespace,
            parameters=[params_file, spec.parameters], ros_arguments=ros_args,
            additional_env=env, prefix=prefix, exec_name=spec.executable, output='screen',
            emulate_tty=True))
    if args['aggregator']:
        if _installed('diagnostic_aggregator'):
            # No name override: the aggregator's node is called 'analyzers', the root key of
            # its parameters file.
            supervise('diagnostic_aggregator', lambda: Node(
                package='diagnostic_aggregator', executable='aggregator_node',
                namespace=namespace, additional_env=env,
                parameters=[os.path.join(share, 'config', 'diagnostic_aggregator.yaml')],
                output='screen'))
        else:
            LOG.warning("package 'diagnostic_aggregator' is not installed: no /diagnostics_agg "
                        '(for rqt_robot_monitor); everything else runs. Install '
                        'ros-<distro>-diagnostic-aggregator, or set aggregator:=false')
    if args['record']:
        missing = [p for p in ('ros2bag', 'rosbag2_storage_mcap') if not _installed(p)]
        if missing:
            what = (f'package {missing[0]} is' if len(missing) == 1 else
                    f"packages {' and '.join(missing)} are")
            LOG.warning(f"record:=true needs 'ros2 bag record' with MCAP storage, but {what} "
                        'not installed: no bag is recorded (the flight recorder still writes '
                        'its own). Install ros-<distro>-rosbag2 and '
                        'ros-<distro>-rosbag2-storage-mcap')
        else:
            recorder = os.path.join(get_package_prefix(PACKAGE), 'lib', PACKAGE,
                                    RECORD_EXECUTABLE)
            bag_dir = args['bag_dir'] or os.path.join(
                instance_log_dir(bringup) or str(default_log_dir()), 'bags')
            cmd = [recorder, '--bag-dir', bag_dir] + (
                ['--images'] if args['record_images'] else [])
            # Each (re)start records into a new, timestamped bag directory.
            supervise('bag_recorder', lambda: ExecuteProcess(
                cmd=cmd, name='bag_recorder', output='screen', sigterm_timeout='10',
                additional_env=env))
    return entities


def generate_launch_description():
    """Declare the arguments, apply the transport profile and start the nodes."""
    share = get_package_share_directory(PACKAGE)
    profile = os.path.join(share, 'config', 'fastdds.xml')
    actions = [DeclareLaunchArgument(name, default_value=default, description=description)
               for name, default, description in ARGUMENTS]
    if 'FASTDDS_DEFAULT_PROFILES_FILE' not in os.environ:
        actions.append(SetEnvironmentVariable(
            'FASTDDS_DEFAULT_PROFILES_FILE', profile,
            condition=IfCondition(LaunchConfiguration('shm_transport'))))
    actions.append(OpaqueFunction(function=_nodes))
    return LaunchDescription(actions)
