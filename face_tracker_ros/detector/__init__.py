# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0

"""Face detector: detection backends, target choice and the detector node."""
