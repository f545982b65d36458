# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The flight recorder: recent messages in memory, written as a rosbag2 when something fails.

:mod:`.buffer` keeps serialized messages for a time window within a byte
budget, :mod:`.bagwriter` writes them as an MCAP rosbag2 and prunes old bags
(both ROS-free), and :mod:`.node` is the ``flight_recorder`` node that ties
them to ``/diagnostics`` and a ``std_srvs/Trigger`` service.
"""
