# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0

"""Command-line tools: the demo and its summary."""
