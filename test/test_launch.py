# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The launch file under launch_testing: the simulated pipeline tracks, and respawn works.

Runs where ``launch``, ``launch_ros`` and ``launch_testing`` are installed (a
ROS 2 distribution, after ``colcon build``); skipped on the PyPI-only path,
which has no launch.
"""

import os
import signal
import tempfile
import time
import unittest

import pytest

REASON = ('launch/launch_ros/launch_testing are not installed (they are not on PyPI); '
          'run this test in a ROS 2 distribution after colcon build')
launch = pytest.importorskip('launch', reason=REASON)
pytest.importorskip('launch_ros', reason=REASON)
pytest.importorskip('launch_testing', reason=REASON)

from ament_index_python.packages import get_package_share_directory  # noqa: E402
from geometry_msgs.msg import PointStamped  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import psutil  # noqa: E402
import rclpy  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402

RESPAWN_DELAY = 1.0
SIM_PORT = os.path.join(tempfile.mkdtemp(prefix='face_tracker_launch_'), 'sim_servo')


@pytest.mark.launch_test
def generate_test_description():
    """Launch the tracker in simulation, exactly as a user would."""
    path = os.path.join(get_package_share_directory('face_tracker_ros'), 'launch',
                        'tracker.launch.py')
    tracker = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(path),
        launch_arguments={'use_sim': 'true', 'sim_port': SIM_PORT,
                          'respawn_delay': str(RESPAWN_DELAY)}.items())
    return launch.LaunchDescription([tracker, launch_testing.actions.ReadyToTest()]), {}


def _node_pid(name: str):
    """Return the pid of this launch's process of node ``name``, or None.

    Only descendants of this process count: other tracker instances on the
    machine (a demo, another test run) have the same command lines.
    """
    for proc in psutil.Process().children(recursive=True):
        try:
            cmdline = proc.cmdline()
        except psutil.Error:  # exited meanwhile
            continue
        if f'__node:={name}' in cmdline:
            return proc.pid
    return None


class TestTracking(unittest.TestCase):
    """Active tests while the launch runs."""

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('launch_test_client')
        cls.targets = []
        cls.node.create_subscription(
            PointStamped, 'face/target', cls.targets.append,
            QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE))

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def _wait_for_faces(self, count: int, timeout: float) -> bool:
        start = len([t for t in self.targets if t.point.z > 0.0])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.1)
            if len([t for t in self.targets if t.point.z > 0.0]) - start >= count:
                return True
        return False

    def test_1_pipeline_tracks_the_simulated_face(self):
        self.assertTrue(self._wait_for_faces(30, 60.0), 'no face targets from the launch')
        for name in ('sim_servo', 'camera', 'detector', 'servo'):
            self.assertIsNotNone(_node_pid(name), f'{name} is not running')

    def test_2_a_killed_node_is_respawned(self):
        self.assertTrue(self._wait_for_faces(10, 60.0))
        old = _node_pid('detector')
        self.assertIsNotNone(old)
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + RESPAWN_DELAY + 15.0
        new = None
        while time.monotonic() < deadline:
            new = _node_pid('detector')
            if new not in (None, old):
                break
            time.sleep(0.2)
        self.assertNotIn(new, (None, old), 'the detector was not respawned')
        self.assertTrue(self._wait_for_faces(10, RESPAWN_DELAY + 20.0),
                        'tracking did not resume after the respawn')


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    """After Ctrl-C every node exits cleanly."""

    def test_exit_codes(self, proc_info):
        # proc_info keeps the last run of each process action: the detector killed on
        # purpose is judged by its respawn. Every node must exit 0 on SIGINT.
        self.assertEqual(len(proc_info.process_names()), 4, proc_info.process_names())
        launch_testing.asserts.assertExitCodes(proc_info)
