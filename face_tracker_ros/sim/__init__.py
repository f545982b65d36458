# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0

"""Closed-loop simulation: a rendered scene, the simulated camera and servo controller nodes."""
