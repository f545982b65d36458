# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Quality-of-service profiles, following REP-2003.

Drivers publish sensor data reliably; consumers that only care about the
newest sample subscribe best-effort with a queue of one, so a slow consumer
always works on the latest frame and never on a backlog.
"""

from rclpy.qos import (
                       DurabilityPolicy,
                       HistoryPolicy,
                       qos_profile_sensor_data,
                       QoSProfile,
                       ReliabilityPolicy,
)

#: Publisher of camera images (REP-2003: reliable, small queue).
IMAGE_PUB = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                       history=HistoryPolicy.KEEP_LAST)

#: Subscriber to any stream where only the newest message matters.
LATEST_ONLY = QoSProfile(depth=1, reliability=qos_profile_sensor_data.reliability,
                         history=HistoryPolicy.KEEP_LAST,
                         durability=qos_profile_sensor_data.durability)

#: The servo node's subscriber to ``face/target``: every target in order, not only the
#: newest.  A target is a few dozen bytes and each is one observation for the control law
#: (whose latency compensation places it in time), so a servo node that waited for the CPU
#: (a small or busy computer) acts on every frame the detector processed meanwhile instead
#: of dropping all but the last (5 % of the targets at 30 % of one core).
EVERY_TARGET = QoSProfile(depth=10, reliability=qos_profile_sensor_data.reliability,
                          history=HistoryPolicy.KEEP_LAST,
                          durability=qos_profile_sensor_data.durability)

#: Publishers of small per-frame results (targets, joint states, traces).
STREAM_PUB = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                        history=HistoryPolicy.KEEP_LAST)

#: Publishers of per-frame results that monitors and recorders count (targets, truth,
#: latency traces): like STREAM_PUB, but a monitor that discovers the publisher late
#: still receives the last few seconds.  Newest-only subscribers are unaffected.
TRACE_PUB = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                       history=HistoryPolicy.KEEP_LAST,
                       durability=DurabilityPolicy.TRANSIENT_LOCAL)
