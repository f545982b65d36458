# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0

"""Servo: control law, calibration, serial protocols and the servo node."""
