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

import inspect
import os

from ament_index_python.packages import get_package_prefix, get_package_share_directory
from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    ExecuteProcess,
    OpaqueFunction,
    SetEnvironmentVariable,
)
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

try:  # where respawn options live (ExecuteProcess passes them on)
    from launch.actions import ExecuteLocal
except ImportError:  # older launch
    from launch.actions import ExecuteProcess as ExecuteLocal

from face_tracker_ros.bringup.plan import BringupArgs, make_plan, parse_bool, parse_node_log_levels
from face_tracker_ros.common.paths import default_log_dir

PACKAGE = 'face_tracker_ros'

ARGUMENTS = (
    ('use_sim', 'false', 'Simulated camera and servo controller, no hardware needed'),
    ('camera_source', '', "'sim', a V4L2 device (/dev/video0, /dev/v4l/by-id/...) or a video "
     'file; empty = as in the parameters file'),
    ('serial_port', '', 'Servo controller port (/dev/ttyUSB0, /dev/serial/by-id/...); empty = '
     'as in the parameters file'),
    ('protocol', '', 'Servo controller protocol: ascii or maestro; empty = parameters file'),
    ('sim_path', '', 'Simulated face motion: still, drift, steps, leave_return'),
    ('sim_port', '', "Link path of the simulated controller's pseudo-terminal"),
    ('debug_image', 'false', 'Publish face/debug_image with the detected faces drawn'),
    ('params_file', '', 'Parameters file; empty = the installed config/tracker.yaml'),
    ('log_level', 'info', 'Log level of every node: debug, info, warn, error, fatal'),
    ('node_log_levels', '', 'Per-node log levels overriding log_level, e.g. '
     '"camera=debug,servo=warn"'),
    ('log_dir', '', 'Directory of face_tracker.log; empty = the ROS log directory'),
    ('aggregator', 'true', 'Start diagnostic_aggregator with config/diagnostic_aggregator.yaml '
     '(/diagnostics_agg for rqt_robot_monitor)'),
    ('respawn_delay', '2.0', 'Seconds before a node that exited is started again'),
    ('respawn_max_retries', '-1', "Restarts per node over the launch's lifetime, -1 = no limit "
     '(Jazzy and later; ignored on Humble, whose launch has no such option)'),
    ('flight_recorder', 'true', 'Keep the last seconds of diagnostics, logs and targets in '
     'memory and write them to a bag on an ERROR, a node restart or a request'),
    ('record', 'false', 'Record a bag for post-mortems with ros2 bag record (MCAP): '
     'diagnostics, rosout, targets, joint states, latency'),
    ('bag_dir', '', 'Directory of the recorded bags; empty = <log dir>/bags'),
    ('record_images', 'false', 'Also record camera/preview/compressed (small JPEGs at 2 Hz)'),
    ('shm_transport', 'true', 'Apply the shipped Fast DDS shared-memory profile for full-rate '
     'images (unless FASTDDS_DEFAULT_PROFILES_FILE is already set)'),
)


def _nodes(context):
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    share = get_package_share_directory(PACKAGE)
    params_file = arg('params_file') or os.path.join(share, 'config', 'tracker.yaml')
    plan = make_plan(BringupArgs(
        use_sim=parse_bool(arg('use_sim')), camera_source=arg('camera_source'),
        serial_port=arg('serial_port'), protocol=arg('protocol'), sim_path=arg('sim_path'),
        sim_port=arg('sim_port'), debug_image=parse_bool(arg('debug_image')),
        log_dir=arg('log_dir'), node_log_levels=parse_node_log_levels(arg('node_log_levels')),
        preview_rate_hz=2.0 if parse_bool(arg('record_images')) else 0.0,
        flight_recorder=parse_bool(arg('flight_recorder'))))
    respawn = {'respawn': True, 'respawn_delay': float(arg('respawn_delay'))}
    if 'respawn_max_retries' in inspect.signature(ExecuteLocal.__init__).parameters:
        respawn['respawn_max_retries'] = int(arg('respawn_max_retries'))
    nodes = [
        Node(package=PACKAGE, executable=spec.executable, name=spec.name,
             parameters=[params_file, spec.parameters],
             arguments=['--ros-args', '--log-level', spec.log_level or arg('log_level')],
             output='screen', emulate_tty=True, **respawn)
        for spec in plan
    ]
    if parse_bool(arg('aggregator')):
        # No name override: the aggregator's node is called 'analyzers', the root key of
        # its parameters file.
        nodes.append(Node(
            package='diagnostic_aggregator', executable='aggregator_node',
            parameters=[os.path.join(share, 'config', 'diagnostic_aggregator.yaml')],
            output='screen', **respawn))
    if parse_bool(arg('record')):
        recorder = os.path.join(get_package_prefix(PACKAGE), 'lib', PACKAGE,
                                'face_tracker_record')
        cmd = [recorder, '--bag-dir', arg('bag_dir') or os.path.join(
            arg('log_dir') or str(default_log_dir()), 'bags')]
        if parse_bool(arg('record_images')):
            cmd.append('--images')
        # Each (re)start records into a new, timestamped bag directory.
        nodes.append(ExecuteProcess(cmd=cmd, name='bag_recorder', output='screen',
                                    sigterm_timeout='10', **respawn))
    return nodes


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
