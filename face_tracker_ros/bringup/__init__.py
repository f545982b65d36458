# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0

"""Bring-up: the node plan shared by the launch file and the standalone runner."""
