# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""``python -m face_tracker_ros.tools.report BAG``: run the report command line tool."""

import sys

from face_tracker_ros.tools.report import main

sys.exit(main())
