# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0

"""Camera: frame sources (V4L2 device, video file), self-healing capture, the camera node."""
