# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""``python -m face_tracker_ros.tools.diagnose``: run the diagnose command line tool."""

import sys

from face_tracker_ros.tools.diagnose import main

sys.exit(main())
