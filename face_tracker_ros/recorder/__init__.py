# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The flight recorder: recent messages in memory, written as a rosbag2 when something fails.

ROS-free: :mod:`.params` (the parameters and the typed :class:`~.params.RecorderConfig`),
:mod:`.policy` (when a bag is written: ERROR transitions, restarts, requests, the cool-down),
:mod:`.buffer` (serialized messages within a time window and a byte budget), :mod:`.bagwriter`
(MCAP rosbag2 writing and pruning) and :mod:`.capture` (the buffer, the bag-writing thread
and the status).  :mod:`.node` is the ``flight_recorder`` node that ties them to the topics,
``/diagnostics`` and a ``std_srvs/Trigger`` service.
"""
