# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The servo's params and status modules import no ROS, checked in a fresh interpreter.

The status reports themselves are in test/unit/test_servo_status.py.
"""

import subprocess
import sys


def test_the_params_and_status_modules_import_no_ros():
    code = ('import sys, face_tracker_ros.servo.params, face_tracker_ros.servo.status; '
            "print([m for m in sys.modules if m.startswith(('rclpy', 'rosidl'))])")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == '[]'
