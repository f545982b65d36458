# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Performance benchmarks of face_tracker_ros, measured side by side in one run (``make bench``).

Sections (one module each): :mod:`bench.transport` (camera-sized images
between two processes over DDS), :mod:`bench.detector` (cost and accuracy of
every detector configuration), :mod:`bench.pipeline` (capture-to-command
latency of the node pipeline against the in-process loop of
:mod:`bench.baseline`, and the nodes' CPU and memory), :mod:`bench.budget`
(the closed loop under CPU quotas and beside CPU hogs), :mod:`bench.soak`
(memory growth over a long run).  :mod:`bench.run` is the entry point.
"""
