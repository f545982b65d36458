# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The installed launch file under launch_testing: the simulated tracker as a user starts it.

Default arguments plus ``use_sim:=true`` (diagnostic_aggregator and rosbag2
are not installed in the lane): every node runs, targets flow, every node's
status is on ``/diagnostics`` as ``ros2 topic echo`` shows it, ``ros2 param
set`` tunes a live parameter and is refused on a structural one, a SIGKILLed
detector is respawned, a SIGSTOPped one is ended by the watchdog and
respawned; after the shutdown (SIGINT to every process) each node's last run
exited 0 and nothing printed or logged a traceback.
"""

import os
import signal
import time
import unittest

from geometry_msgs.msg import PointStamped
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch_helpers import (
    assert_installed_package,
    diagnostics_names,
    fast_watchdog_params,
    launch_file,
    node_pid,
    node_processes,
    ros2_on_node,
    SIM_NODES,
    temp_dir,
    TRACEBACK,
    tracebacks_in,
    wait_until,
)
import launch_testing.actions
import psutil
import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy

RESPAWN_DELAY = 1.0
WORK = temp_dir('face_tracker_launch_')
LOG_DIR = WORK / 'logs'


@pytest.mark.launch_test
def generate_test_description():
    """Launch the installed tracker in simulation, as ``ros2 launch`` would."""
    assert_installed_package()
    tracker = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(launch_file()),
        launch_arguments={
            'use_sim': 'true', 'sim_port': str(WORK / 'sim_servo'), 'log_dir': str(LOG_DIR),
            'respawn_delay': str(RESPAWN_DELAY), 'params_file': fast_watchdog_params(WORK),
        }.items())
    return LaunchDescription([tracker, launch_testing.actions.ReadyToTest()]), {}


class TestRunningTracker(unittest.TestCase):
    """Active tests while the launch runs (in name order)."""

    @classmethod
    def setUpClass(cls):
        cls.context = rclpy.Context()
        rclpy.init(context=cls.context)
        cls.node = rclpy.create_node('launch_test_client', context=cls.context)
        cls.executor = rclpy.executors.SingleThreadedExecutor(context=cls.context)
        cls.executor.add_node(cls.node)
        cls.targets = []
        cls.node.create_subscription(
            PointStamped, 'face/target', cls.targets.append,
            QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE))
        cls.me = psutil.Process()

    @classmethod
    def tearDownClass(cls):
        cls.executor.shutdown()
        cls.node.destroy_node()
        rclpy.shutdown(context=cls.context)

    def _wait_for_faces(self, count: int, timeout: float) -> bool:
        """Wait for ``count`` targets with a face captured from now on (not queued old ones)."""
        now = time.time()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.1)
            fresh = [t for t in self.targets if t.point.z > 0.0 and
                     t.header.stamp.sec + t.header.stamp.nanosec * 1e-9 >= now]
            if len(fresh) >= count:
                return True
        return False

    def _wait_for_new_detector(self, old: int, timeout: float):
        return wait_until(lambda: node_pid(self.me, 'detector') not in (None, old)
                          and node_pid(self.me, 'detector'), timeout)

    def test_1_every_node_runs_and_the_tracker_tracks(self):
        self.assertTrue(self._wait_for_faces(30, 90.0), 'no face targets from the launch')
        for name in SIM_NODES:
            self.assertEqual(len(node_processes(self.me, name)), 1, f'{name} is not running')
        # diagnostic_aggregator is not installed here: the launch warned and went on.
        self.assertEqual(node_processes(self.me, 'analyzers'), [])

    def test_2_every_node_status_in_ros2_topic_echo(self):
        from face_tracker_ros.common.compat import DIAGNOSTICS_BACKEND
        # The nodes run in this environment, where the real diagnostic_updater is installed.
        self.assertEqual(DIAGNOSTICS_BACKEND, 'diagnostic_updater')
        wanted = [f'diagnostics: process {node}' for node in SIM_NODES if node != 'diagnostics']
        names = set()
        for _ in range(3):  # discovery by a new CLI process can take a few seconds
            names |= set(diagnostics_names(8.0))
            if all(any(n.startswith(f'{node}: ') for n in names) for node in SIM_NODES) and \
                    set(wanted) <= names:
                break
        names = sorted(names)
        for node in SIM_NODES:
            self.assertTrue(any(name.startswith(f'{node}: ') for name in names),
                            f'no status of {node} in ros2 topic echo /diagnostics: {names}')
            if node != 'diagnostics':  # and the watchdog's view of every watched process
                self.assertIn(f'diagnostics: process {node}', names)

    def test_3_ros2_param_set_live_and_structural(self):
        done = ros2_on_node('param', 'set', '/servo', 'pan.kp', '0.75')
        self.assertIn('Set parameter successful', done.stdout, done.stdout + done.stderr)
        got = ros2_on_node('param', 'get', '/servo', 'pan.kp')
        self.assertIn('0.75', got.stdout, got.stdout + got.stderr)
        refused = ros2_on_node('param', 'set', '/servo', 'protocol', 'maestro')
        text = refused.stdout + refused.stderr
        self.assertIn('failed', text.lower())
        self.assertIn('protocol', text)
        got = ros2_on_node('param', 'get', '/servo', 'protocol')
        self.assertIn('ascii', got.stdout)
        out_of_range = ros2_on_node('param', 'set', '/servo', 'pan.kp', '-1.0')
        self.assertIn('failed', (out_of_range.stdout + out_of_range.stderr).lower())
        self.assertIn('0.75', ros2_on_node('param', 'get', '/servo', 'pan.kp').stdout)

    def test_4_sigkill_of_the_detector_is_respawned(self):
        self.assertTrue(self._wait_for_faces(10, 60.0))
        old = node_pid(self.me, 'detector')
        self.assertIsNotNone(old)
        os.kill(old, signal.SIGKILL)
        self.assertTrue(self._wait_for_new_detector(old, RESPAWN_DELAY + 20.0),
                        'the detector was not respawned')
        self.assertTrue(self._wait_for_faces(10, 60.0), 'tracking did not resume')

    def test_5_sigstop_of_the_detector_ends_in_a_respawn(self):
        self.assertTrue(self._wait_for_faces(10, 60.0))
        old = node_pid(self.me, 'detector')
        os.kill(old, signal.SIGSTOP)
        try:
            # Startup grace 15 s, stale after 5 s, SIGKILL 2 s after SIGTERM (test parameters).
            new = self._wait_for_new_detector(old, 60.0)
        finally:
            if psutil.pid_exists(old):
                os.kill(old, signal.SIGCONT)
        self.assertTrue(new, 'the watchdog did not end the stopped detector')
        self.assertTrue(self._wait_for_faces(10, 60.0), 'tracking did not resume')


@launch_testing.post_shutdown_test()
class TestAfterShutdown(unittest.TestCase):
    """After the launch's shutdown (SIGINT to every node)."""

    def test_every_node_exited_0(self, proc_info):
        last = {}
        for event in proc_info:
            for name in SIM_NODES:
                if f'__node:={name}' in event.cmd:
                    last[name] = event.returncode
        self.assertEqual(sorted(last), sorted(SIM_NODES))
        self.assertEqual({name: code for name, code in last.items() if code != 0}, {})

    def test_no_traceback_in_output_or_log_file(self, proc_output):
        for event in proc_output:
            self.assertNotIn(TRACEBACK, event.text.decode(errors='replace'),
                             event.process_name)
        self.assertTrue((LOG_DIR / 'face_tracker.log').is_file())
        self.assertEqual(tracebacks_in(LOG_DIR), [])
