# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0

"""Helpers shared by the nodes: parameters, QoS, image conversion, paths."""
