# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Names shared by the nodes, the launch file, the standalone runner and the tools.

Defined once here and imported everywhere else; this module imports nothing from ROS.
"""

from typing import Tuple

#: The ROS package: its share directory, its log and model folders, ``ros2 run`` commands.
PACKAGE = 'face_tracker_ros'

# Environment variable that marks every process of one tracker run (one `ros2 launch` or one
# standalone runner): the launch file and the runner set it to a fresh id for all the processes
# they start, and the watchdog acts only on processes that carry its own id, never on a
# look-alike of another run or of an unrelated program on the same machine.
RUN_ID_ENV = 'FACE_TRACKER_RUN_ID'

# Environment variable the bring-up may set to its own pid for the processes it starts: a node
# whose parent is not that process when it starts (the bring-up died before the node could ask
# to be signalled on its death) exits at once instead of running unsupervised.
PARENT_PID_ENV = 'FACE_TRACKER_PARENT_PID'

# Topics, relative to the node's namespace unless they start with '/'. The message types and
# QoS profiles are in docs/design.md (Topics and QoS) and face_tracker_ros.common.qos.
IMAGE_TOPIC = 'camera/image_raw'
CAMERA_INFO_TOPIC = 'camera/camera_info'
TARGET_TOPIC = 'face/target'
DEBUG_IMAGE_TOPIC = 'face/debug_image'
JOINT_STATES_TOPIC = 'joint_states'
COMMAND_LATENCY_TOPIC = 'servo/command_latency'
DIAGNOSTICS_TOPIC = '/diagnostics'
ROSOUT_TOPIC = '/rosout'
PREVIEW_TOPIC = 'camera/preview/compressed'
# The simulation's own topics: the simulated controller's pose, the true face position
# (ground truth for the tools and benchmarks) and the fault injection commands.
SIM_JOINT_STATES_TOPIC = 'sim/joint_states'
SIM_TRUE_TARGET_TOPIC = 'sim/true_target'
SIM_INJECT_FAULT_TOPIC = 'sim/inject_fault'
# Service of the flight recorder: write the buffer to a bag now.
RECORDER_TRIGGER_SERVICE = '~/trigger'

# Node names: each node's default name, its section in config/tracker.yaml, its name in
# node_log_levels and watched_nodes, and the first part of its status names.
CAMERA_NODE = 'camera'
DETECTOR_NODE = 'detector'
SERVO_NODE = 'servo'
SIM_SERVO_NODE = 'sim_servo'
DIAGNOSTICS_NODE = 'diagnostics'
FLIGHT_RECORDER_NODE = 'flight_recorder'

#: Executable of each node (setup.py's console_scripts), by node name.
NODE_EXECUTABLES = {
    CAMERA_NODE: 'camera_node',
    DETECTOR_NODE: 'detector_node',
    SERVO_NODE: 'servo_node',
    SIM_SERVO_NODE: 'sim_servo_node',
    DIAGNOSTICS_NODE: 'diagnostics_node',
    FLIGHT_RECORDER_NODE: 'flight_recorder_node',
}
#: The simulated camera: the camera node (same name, topics, parameters) from its own executable.
SIM_CAMERA_EXECUTABLE = 'sim_camera_node'
#: The bag recorder the launch file starts with record:=true.
RECORD_EXECUTABLE = 'face_tracker_record'

# Status task names: a node publishes each task as the status '<node name>: <task>' on
# /diagnostics (diagnostic_updater's naming); the monitor, the flight recorder, the tools and
# the benchmarks find the statuses by these names.
CAMERA_TASK = 'camera'
DETECTOR_TASK = 'detector'
SERVO_TASK = 'servo'
SIM_SERVO_TASK = 'simulated controller'
FLIGHT_RECORDER_TASK = 'flight recorder'
SYSTEM_TASK = 'system'
CAMERA_DEVICE_TASK = 'camera device'
LOG_FILE_TASK = 'log file'
#: Prefixes of the per-node tasks: the diagnostics node's 'process <node>' and 'watchdog
#: <node>', the flight recorder's 'peer watch <node>'.
PROCESS_TASK_PREFIX = 'process '
WATCHDOG_TASK_PREFIX = 'watchdog '
PEER_WATCH_TASK_PREFIX = 'peer watch '


def status_name(node: str, task: str) -> str:
    """Return the name of a node's status on /diagnostics: ``'camera: camera'``."""
    return f'{node}: {task}'


def split_status_name(name: str) -> Tuple[str, str]:
    """Return ``(node, task)`` of a status name (``(name, '')`` when it has no ': ')."""
    node, _, task = name.partition(': ')
    return node, task


def process_task(node: str) -> str:
    """Return the diagnostics node's task name for the process of ``node``."""
    return PROCESS_TASK_PREFIX + node


def watchdog_task(node: str) -> str:
    """Return the diagnostics node's task name for the watchdog of ``node``."""
    return WATCHDOG_TASK_PREFIX + node


def peer_watch_task(node: str) -> str:
    """Return the flight recorder's task name for its watch of ``node`` (the diagnostics)."""
    return PEER_WATCH_TASK_PREFIX + node


#: Full status names the tools and benchmarks look for.
CAMERA_STATUS = status_name(CAMERA_NODE, CAMERA_TASK)
DETECTOR_STATUS = status_name(DETECTOR_NODE, DETECTOR_TASK)
SERVO_STATUS = status_name(SERVO_NODE, SERVO_TASK)
SYSTEM_STATUS = status_name(DIAGNOSTICS_NODE, SYSTEM_TASK)
LOG_FILE_STATUS = status_name(DIAGNOSTICS_NODE, LOG_FILE_TASK)
FLIGHT_RECORDER_STATUS = status_name(FLIGHT_RECORDER_NODE, FLIGHT_RECORDER_TASK)
