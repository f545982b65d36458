# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Monitor: resource readings, leak trends, alarm levels and the rotating log file."""
