# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0

"""Keep a face centred with a pan/tilt camera: ROS 2 nodes and their ROS-free cores."""
