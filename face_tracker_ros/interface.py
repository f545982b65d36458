# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Names shared by the nodes, the launch file, the standalone runner and the tools.

Defined once here and imported everywhere else; this module imports nothing from ROS.
"""

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
# QoS profiles are in the README's node tables and face_tracker_ros.common.qos.
IMAGE_TOPIC = 'camera/image_raw'
CAMERA_INFO_TOPIC = 'camera/camera_info'
TARGET_TOPIC = 'face/target'
DEBUG_IMAGE_TOPIC = 'face/debug_image'
JOINT_STATES_TOPIC = 'joint_states'
COMMAND_LATENCY_TOPIC = 'servo/command_latency'
DIAGNOSTICS_TOPIC = '/diagnostics'
ROSOUT_TOPIC = '/rosout'
